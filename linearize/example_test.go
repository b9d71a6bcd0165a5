package linearize_test

import (
	"context"
	"fmt"
	"time"

	"ds440/linearize"
)

// Two clients write and read one register. The read by client 1 overlaps both writes, so it may
// see either; the read by client 2 starts after the write of "b" returned, so it must not see
// "a" (unless "a" is written after "b", which the times here exclude).
func Example() {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	write := func(v string) linearize.RegisterInput {
		return linearize.RegisterInput{Kind: linearize.Write, Value: v}
	}
	read := linearize.RegisterInput{Kind: linearize.Read}
	saw := func(v string) linearize.RegisterOutput { return linearize.RegisterOutput{Value: v} }

	history := []linearize.Operation{
		{ClientID: 0, Input: write("a"), Output: linearize.RegisterOutput{}, Call: ms(0), Return: ms(10)},
		{ClientID: 0, Input: write("b"), Output: linearize.RegisterOutput{}, Call: ms(20), Return: ms(30)},
		{ClientID: 1, Input: read, Output: saw("a"), Call: ms(5), Return: ms(25)},
		{ClientID: 2, Input: read, Output: saw("b"), Call: ms(35), Return: ms(40)},
	}
	res, err := linearize.Check(context.Background(), linearize.RegisterModel(), history)
	fmt.Println(res.Verdict, err)

	history[3].Output = saw("a") // a stale read
	res, _ = linearize.Check(context.Background(), linearize.RegisterModel(), history)
	fmt.Println(res.Verdict)
	fmt.Print(res.Counterexample)
	// Output:
	// linearizable <nil>
	// not linearizable
	// 3 of 4 operations linearized; then none of these can be placed:
	//   client 2: read ⇒ "a" [35ms, 40ms]
	// state after the prefix: "b"
}
