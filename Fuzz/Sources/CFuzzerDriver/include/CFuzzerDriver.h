// SwiftPM links an executable's entry point as <Target>_main (it renames main so that tests can link the
// module), while libFuzzer brings its own main. This starts libFuzzer's driver from the name SwiftPM wants.
int SwitchboardFuzzer_main(int argc, char **argv);
