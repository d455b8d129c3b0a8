#pragma once

namespace strata {

// Deterministic crash points for the crash test (`strata torture`). Inactive unless the
// environment variable STRATA_CRASH_POINTS lists points with probabilities, e.g.
//   STRATA_CRASH_POINTS="sink.before_commit:0.2,file.before_rename:0.05"
// in which case a process reaching a listed point kills itself with SIGKILL with that
// probability (seeded by STRATA_CRASH_SEED, default the pid). Used between writing data files
// and the Delta commit, between the Delta commit and the checkpoint commit, and between
// writing and renaming a checkpoint file. Thread-safe; costs one branch when inactive.
void CrashPoint(const char* name);

}  // namespace strata
