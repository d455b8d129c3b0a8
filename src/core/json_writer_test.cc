#include "core/json_writer.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(JsonWriterTest, NestsAndEscapes) {
  JsonWriter w;
  w.BeginObject().Key("a").Int(1).Key("b").BeginArray().String("x\"y").Null().Bool(true).EndArray();
  w.Key("c\n").Double(1.5).EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":["x\"y",null,true],"c\n":1.5})");
}

TEST(JsonWriterTest, ControlCharactersAreEscaped) {
  std::string out;
  AppendJsonString(out, std::string("a\x01", 2));
  EXPECT_EQ(out, "\"a\\u0001\"");
}

TEST(JsonWriterTest, NonFiniteDoubleIsNull) {
  JsonWriter w;
  w.BeginArray().Double(1.0 / 0.0).EndArray();
  EXPECT_EQ(w.str(), "[null]");
}

}  // namespace
}  // namespace strata
