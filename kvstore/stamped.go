package kvstore

import (
	"encoding/gob"
	"fmt"
	"strings"

	"ds440/actor"
)

// The stamped face of a query actor: the same Put and List, with the last-writer-wins stamps
// that the contract's GetReply and ListReply leave out. A checker uses them from outside the
// process (the chaos harness): the stamp each acknowledged Put got, and each key's winning
// stamp on every replica, are what prove that a Put was lost only to a later-stamped one.

// PutStampedReply is the stamp a Put was taken with.
type PutStampedReply struct{ Stamp Stamp }

// ListStampedReply holds the keys found, each with its value and stamp.
type ListStampedReply struct{ Entries map[string]Entry }

// listStampedMsg asks an actor for every key with a prefix, with its stamp.
type listStampedMsg struct {
	Prefix string
	Reply  *actor.ActorRef
}

type listStampedResult struct {
	Entries delta
}

func init() {
	gob.Register(listStampedMsg{})
	gob.Register(listStampedResult{})
}

// stampedList returns every version with the prefix that r holds; never nil.
func (r *replica) stampedList(prefix string) delta {
	out := delta{}
	for k, e := range r.entries {
		if strings.HasPrefix(k, prefix) {
			out[k] = e
		}
	}
	return out
}

// PutStamped answers a PutArgs, as Put does, with the stamp the Put was taken with.
func (q *queryReceiver) PutStamped(args *PutArgs, reply *PutStampedReply) error {
	st, err := q.put(args)
	reply.Stamp = st
	return err
}

// ListStamped answers a ListArgs with each key's value and stamp; Entries is never nil.
func (q *queryReceiver) ListStamped(args *ListArgs, reply *ListStampedReply) error {
	m, err := q.ask(0, func(r *actor.ActorRef) any { return listStampedMsg{Prefix: args.Prefix, Reply: r} })
	if err != nil {
		return err
	}
	res, ok := m.(listStampedResult)
	if !ok {
		return fmt.Errorf("kvstore: unexpected answer %T", m)
	}
	reply.Entries = res.Entries
	if reply.Entries == nil {
		reply.Entries = map[string]Entry{}
	}
	return nil
}

// PutStamped sets key to value, as Put does, and returns the stamp the Put was taken with.
func (c *Client) PutStamped(key, value string) (Stamp, error) {
	var reply PutStampedReply
	if err := c.call("QueryReceiver.PutStamped", &PutArgs{Key: key, Value: value}, &reply); err != nil {
		return Stamp{}, err
	}
	return reply.Stamp, nil
}

// ListStamped returns every key with the prefix, with its value and stamp, as the query
// actor's replica holds it; the map is never nil.
func (c *Client) ListStamped(prefix string) (map[string]Entry, error) {
	var reply ListStampedReply
	if err := c.call("QueryReceiver.ListStamped", &ListArgs{Prefix: prefix}, &reply); err != nil {
		return map[string]Entry{}, err
	}
	if reply.Entries == nil {
		reply.Entries = map[string]Entry{}
	}
	return reply.Entries, nil
}
