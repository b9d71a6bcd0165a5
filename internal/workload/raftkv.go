package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ds440/linearize"
)

// RaftKV is a client of raftnode's HTTP key/value API as a checker sees it: it numbers its
// writes (client id and sequence number, so a retried write is applied once), retries an
// operation on other servers, following the leader named by a 421, until it gets a definite
// answer or its deadline passes, and reports the outcome as linearize's KV model has it.
type RaftKV struct {
	ID    uint64   // client id, > 0 and unique among the clients of a cluster
	Addrs []string // every server's HTTP address
	HTTP  *http.Client
	// StaleReads reads from any server's own copy (GET without ?consistent=1, at a server
	// chosen in turn), which is not linearizable: the harness uses it to show that the
	// checker catches stale reads.
	StaleReads bool

	seq   uint64
	reads uint64
	guess int // index in Addrs of the server believed to lead
}

// ErrNoAnswer means no server gave a definite answer before the deadline: the operation's
// outcome is unknown.
var ErrNoAnswer = errors.New("workload: no definite answer")

// Do runs one operation until a definite answer or giveUp.
func (c *RaftKV) Do(in linearize.KVInput, giveUp time.Time) (linearize.KVOutput, error) {
	q := url.Values{}
	method := http.MethodPut
	switch in.Kind {
	case linearize.Read:
		method = http.MethodGet
		if c.StaleReads {
			c.reads++
			c.guess = int(c.reads % uint64(len(c.Addrs)))
		} else {
			q.Set("consistent", "1")
		}
	case linearize.CompareAndSet:
		if in.ExpectAbsent {
			q.Set("expect-absent", "1")
		} else {
			q.Set("expect", in.Expect)
		}
	}
	if method == http.MethodPut {
		c.seq++
		q.Set("client", fmt.Sprint(c.ID))
		q.Set("seq", fmt.Sprint(c.seq))
	}
	target := "/kv/" + url.PathEscape(in.Key) + "?" + q.Encode()
	for time.Now().Before(giveUp) {
		req, err := http.NewRequest(method, "http://"+c.Addrs[c.guess]+target, strings.NewReader(in.Value))
		if err != nil {
			return linearize.KVOutput{}, err
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			c.next()
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			c.next()
			continue
		}
		switch resp.StatusCode {
		case http.StatusOK:
			if in.Kind == linearize.Read {
				return linearize.KVOutput{Value: string(body), Found: true}, nil
			}
			return linearize.KVOutput{Swapped: true}, nil
		case http.StatusNotFound:
			return linearize.KVOutput{}, nil
		case http.StatusPreconditionFailed:
			return linearize.KVOutput{Swapped: false}, nil
		case http.StatusMisdirectedRequest:
			c.follow(body)
		default: // 409 not applied, 504 not known yet, 503 ...: the same seq is safe to retry
			c.next()
		}
	}
	return linearize.KVOutput{}, ErrNoAnswer
}

// follow goes to the leader a 421 names, or to the next server if it names none.
func (c *RaftKV) follow(body []byte) {
	var hint struct{ Leader string }
	if json.Unmarshal(body, &hint) == nil && hint.Leader != "" {
		for i, a := range c.Addrs {
			if a == hint.Leader {
				c.guess = i
				return
			}
		}
	}
	c.next()
}

func (c *RaftKV) next() {
	c.guess = (c.guess + 1) % len(c.Addrs)
	time.Sleep(5 * time.Millisecond) // a short pause so a cluster without a leader is not flooded
}
