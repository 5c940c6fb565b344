# cmake -DTARGET=NAME -DCLOSURE=FILE -DALLOWED=a,b -P check_links.cmake
cmake_minimum_required(VERSION 3.25)
# Fails when the link closure of TARGET (FILE: one library per line, as tests/CMakeLists.txt
# wrote it at configure time) holds a project library (kolokol_*) outside ALLOWED.
file(STRINGS "${CLOSURE}" closure)
string(REPLACE "," ";" ALLOWED "${ALLOWED}")
set(bad)
foreach(lib ${closure})
  if(lib MATCHES "^kolokol_" AND NOT lib IN_LIST ALLOWED)
    list(APPEND bad ${lib})
  endif()
endforeach()
list(JOIN closure " " all)
message(STATUS "${TARGET} links: ${all}")
if(bad)
  list(JOIN bad " " bad)
  message(FATAL_ERROR "${TARGET} links ${bad}; it may link only: ${ALLOWED}")
endif()
