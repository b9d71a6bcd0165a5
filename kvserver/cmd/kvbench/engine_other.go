//go:build !linux

package main

import (
	"context"
	"errors"
)

// haveEpoll tells whether -engine epoll exists on this platform.
const haveEpoll = false

// runEpoll reports that the event-driven engine is Linux's.
func runEpoll(context.Context, string, config, *meter) (*result, error) {
	return nil, errors.New("kvbench: -engine epoll needs Linux")
}
