package cmud_test

import (
	"regexp"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"ds440/actor"
	"ds440/cmud"
	"ds440/internal/testutil"
	"ds440/kvstore"
)

type addrs []string

func (a addrs) NextAddr() string { return a[0] }

// Players on two real kvstore servers solve the same problem and mine from two devices at
// once; once the servers have synced, no damage and no coin is missing anywhere. The servers
// run on an in-memory network with 50 ms of one-way latency between them, in a synctest bubble.
func TestConcurrentPlayersOnTwoKVStoreServers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, concurrentPlayersOnTwoKVStoreServers)
}

func concurrentPlayersOnTwoKVStoreServers(t *testing.T) {
	network := actor.NewInmemNetwork()
	start := func(remotes ...string) *kvstore.Server {
		s, err := kvstore.New(kvstore.Config{Transport: network, Faults: actor.Faults{Latency: 50 * time.Millisecond},
			QueryActors: 2, Remotes: remotes})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	east := start()
	west := start(east.Desc())
	client := func(addr string) *kvstore.Client {
		c := kvstore.NewClientConfig(kvstore.ClientConfig{Router: addrs{addr}, Transport: network})
		t.Cleanup(c.Close)
		return c
	}
	onEast, onWest := client(east.QueryAddrs()[0]), client(west.QueryAddrs()[1])

	join := func(store cmud.Store, name string) *cmud.Session {
		s, _, err := cmud.New(cmud.Config{Store: store}).Join(name)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	alice := join(onEast, "alice")
	bob := join(onWest, "bob")
	alicePhone := join(onWest, "alice")

	done := regexp.MustCompile(`: (\d+) done`)
	earned := regexp.MustCompile(`earn (\d+) coins?`)
	var mu sync.Mutex
	damage, coins := 0, 0
	add := func(re *regexp.Regexp, out string, total *int) {
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("unexpected output %q", out)
			return
		}
		n, _ := strconv.Atoi(m[1])
		mu.Lock()
		*total += n
		mu.Unlock()
	}
	const rounds = 30
	var wg sync.WaitGroup
	wg.Go(func() {
		for range rounds {
			out, _ := alice.Exec("solve")
			add(done, out, &damage)
			out, _ = alice.Exec("mine 2")
			add(earned, out, &coins)
		}
	})
	wg.Go(func() {
		for range rounds {
			out, _ := bob.Exec("solve")
			add(done, out, &damage)
		}
	})
	wg.Go(func() {
		for range rounds {
			out, _ := alicePhone.Exec("mine 3")
			add(earned, out, &coins)
		}
	})
	wg.Wait()

	for name, store := range map[string]*kvstore.Client{"east": onEast, "west": onWest} {
		observer := join(store, "observer-"+name)
		testutil.Eventually(t, 5*time.Second, func() bool {
			out, _ := observer.Exec("stats")
			return regexp.MustCompile(`, ` + strconv.Itoa(damage%100) + ` of 100 done`).MatchString(out)
		}, "%s sees all %d damage", name, damage)
		testutil.Eventually(t, 5*time.Second, func() bool {
			s := join(store, "alice")
			out, _ := s.Exec("stats")
			return regexp.MustCompile(`coins ` + strconv.Itoa(coins) + `,`).MatchString(out)
		}, "%s sees all %d of alice's coins", name, coins)
	}
}
