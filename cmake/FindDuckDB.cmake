# Finds DuckDB's C API: a system libduckdb first, then the npm build in third_party/duckdb.
# Defines the imported target DuckDB::duckdb.
find_path(DUCKDB_INCLUDE_DIR duckdb.h
  HINTS ${CMAKE_SOURCE_DIR}/third_party/duckdb/include)
find_library(DUCKDB_LIBRARY duckdb
  HINTS ${CMAKE_SOURCE_DIR}/third_party/duckdb/lib)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(DuckDB REQUIRED_VARS DUCKDB_LIBRARY DUCKDB_INCLUDE_DIR)
if(DuckDB_FOUND AND NOT TARGET DuckDB::duckdb)
  add_library(DuckDB::duckdb SHARED IMPORTED)
  set_target_properties(DuckDB::duckdb PROPERTIES
    IMPORTED_LOCATION ${DUCKDB_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${DUCKDB_INCLUDE_DIR})
  get_filename_component(DUCKDB_LIBRARY_DIR ${DUCKDB_LIBRARY} DIRECTORY)
  set(CMAKE_BUILD_RPATH ${CMAKE_BUILD_RPATH} ${DUCKDB_LIBRARY_DIR})
  set(CMAKE_INSTALL_RPATH ${CMAKE_INSTALL_RPATH} ${DUCKDB_LIBRARY_DIR})
endif()
