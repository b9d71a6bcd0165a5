package squarer_test

import (
	"fmt"

	"ds440/squarer"
)

// Each value sent on the input comes back squared on the output, one at a time.
func Example() {
	sq := squarer.New()
	defer sq.Close()

	input := make(chan int)
	output := sq.Initialize(input)
	for _, n := range []int{3, -4, 12} {
		input <- n
		fmt.Println(n, "squared is", <-output)
	}
	// Output:
	// 3 squared is 9
	// -4 squared is 16
	// 12 squared is 144
}

// Closing the input stops the squarer and closes its output, so a reader can range over it.
func Example_pipeline() {
	sq := squarer.New()
	defer sq.Close()

	input := make(chan int)
	output := sq.Initialize(input)
	go func() {
		defer close(input)
		for n := 1; n <= 4; n++ {
			input <- n
		}
	}()
	for square := range output {
		fmt.Println(square)
	}
	// Output:
	// 1
	// 4
	// 9
	// 16
}
