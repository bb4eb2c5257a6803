// Command empty does nothing: procbench times it as the floor of any Go
// process start on the machine.
package main

func main() {}
