// The one Catch2 main for every test binary (compiled once). The TAP reporter lets meson
// count each TEST_CASE (tests run with `-r tap`, protocol 'tap').
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <catch2/catch_reporter_tap.hpp>
