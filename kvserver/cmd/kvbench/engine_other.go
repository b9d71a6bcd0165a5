//go:build !linux

package main

import (
	"context"
	"errors"
)

// haveEvents tells whether -engine epoll and -engine uring exist on this platform.
const haveEvents = false

// runEvents reports that the event-driven engines are Linux's.
func runEvents(context.Context, string, config, *meter) (*result, error) {
	return nil, errors.New("kvbench: -engine epoll and -engine uring need Linux")
}
