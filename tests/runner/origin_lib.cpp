// A shared library found through its program's RPATH $ORIGIN/../lib (see CMakeLists.txt).
extern "C" int litebox_origin_value() { return 42; }
