package kvstore

import (
	"fmt"

	"ds440/actor"
)

// This file keeps the contract's positional constructors. New(Config) and NewClientConfig are
// the API beside them: transports, faults, clocks and timeouts per server and per client.

// NewServer starts a server: an ActorSystem on startPort and queryActorCount query actors,
// actor i answering RPCs on startPort+i (i = 1..queryActorCount). remoteDescs are the descs
// of servers already running; desc describes this one to servers started later. Its actor
// system follows actor.SetArtificialLatency.
func NewServer(startPort, queryActorCount int, remoteDescs []string) (server *Server, desc string, err error) {
	if queryActorCount < 1 {
		return nil, "", fmt.Errorf("kvstore: need at least one query actor, got %d", queryActorCount)
	}
	if startPort < 0 || startPort+queryActorCount > 65535 {
		return nil, "", fmt.Errorf("kvstore: ports %d..%d out of range", startPort, startPort+queryActorCount)
	}
	if _, err := parseDescs(remoteDescs); err != nil {
		return nil, "", err
	}
	system, err := actor.NewActorSystem(startPort)
	if err != nil {
		return nil, "", fmt.Errorf("kvstore: %w", err)
	}
	cfg := Config{System: system, QueryActors: queryActorCount, Remotes: remoteDescs}
	if startPort != 0 {
		cfg.QueryPort = startPort + 1
	}
	s, err := New(cfg)
	if err != nil {
		return nil, "", err
	}
	return s, s.Desc(), nil
}

// NewClient returns a client that asks router where to send each call, over TCP. It is
// NewClientConfig(ClientConfig{Router: router}).
func NewClient(router QueryRouter) *Client {
	return NewClientConfig(ClientConfig{Router: router})
}
