#pragma once
// Runs the Catch2 session (implemented in catch_impl.cpp).
int cs_catch_run(int argc, char **argv);
