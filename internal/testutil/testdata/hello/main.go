// Command hello prints a line; testutil's tests build it with BuildBinary.
package main

import "fmt"

func main() { fmt.Println("hello") }
