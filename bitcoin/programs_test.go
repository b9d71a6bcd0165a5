package bitcoin_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ds440/bitcoin"
	"ds440/internal/testutil"
)

// The three programs run as real processes on loopback, talking LSP over UDP.

// lspFlags are the programs' defaults, spelled out: a lost peer is noticed within a second.
var lspFlags = []string{"-epoch", "200ms", "-epoch-limit", "5"}

type cluster struct {
	t                     *testing.T
	server, miner, client string
	addr                  string
	serverProc            *testutil.Proc
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	testutil.SkipIfShort(t)
	c := &cluster{
		t:      t,
		server: testutil.BuildBinary(t, "ds440/bitcoin/cmd/server"),
		miner:  testutil.BuildBinary(t, "ds440/bitcoin/cmd/miner"),
		client: testutil.BuildBinary(t, "ds440/bitcoin/cmd/client"),
	}
	port := testutil.FreeUDPPort(t)
	c.addr = fmt.Sprintf("127.0.0.1:%d", port)
	c.serverProc = testutil.StartProc(t, c.server, append(lspFlags, "-progress", "200ms", strconv.Itoa(port))...)
	c.serverProc.WaitLine(t, "server listening", 30*time.Second)
	return c
}

func (c *cluster) startMiner(extra ...string) *testutil.Proc {
	c.t.Helper()
	args := append(append(append([]string{}, lspFlags...), "-workers", "1", "-report", "100ms"), extra...)
	p := testutil.StartProc(c.t, c.miner, append(args, c.addr)...)
	p.WaitLine(c.t, "joined server", 30*time.Second)
	return p
}

func (c *cluster) startClient(msg string, maxNonce uint64) *testutil.Proc {
	c.t.Helper()
	return testutil.StartProc(c.t, c.client, append(append([]string{}, lspFlags...), c.addr, msg, strconv.FormatUint(maxNonce, 10))...)
}

// answer waits for a client's Result line and checks it against a plain scan of the range.
func (c *cluster) checkAnswer(p *testutil.Proc, msg string, maxNonce uint64, timeout time.Duration) {
	c.t.Helper()
	m := p.WaitLine(c.t, `^Result (\d+) (\d+)$`, timeout)
	hash, nonce, _ := bitcoin.Scan(msg, 0, maxNonce, nil)
	if m[1] != strconv.FormatUint(hash, 10) || m[2] != strconv.FormatUint(nonce, 10) {
		c.t.Errorf("client %q %d printed %q, want Result %d %d", msg, maxNonce, m[0], hash, nonce)
	}
	if err := p.Wait(c.t, 10*time.Second); err != nil {
		c.t.Errorf("client %q exited with %v", msg, err)
	}
}

func TestProgramsManyClientsManyMiners(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	c.startMiner()
	c.startMiner()
	jobs := map[string]uint64{"alpha": 40_000, "beta": 120_000, "gamma": 5_000}
	procs := map[string]*testutil.Proc{}
	for msg, max := range jobs {
		procs[msg] = c.startClient(msg, max)
	}
	var wg sync.WaitGroup
	for msg, p := range procs {
		wg.Go(func() { c.checkAnswer(p, msg, jobs[msg], 60*time.Second) })
	}
	wg.Wait()
}

func TestProgramsJobQueuedBeforeMinerJoins(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	p := c.startClient("patient", 20_000)
	c.serverProc.WaitLine(t, "job queued", 30*time.Second)
	c.startMiner()
	c.checkAnswer(p, "patient", 20_000, 60*time.Second)
}

// A miner killed (SIGKILL) in the middle of a job is noticed within about a second, its chunk is
// requeued (the other miner takes it when it finishes its own), and the answer is still right.
func TestProgramsMinerKilledMidJob(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	victim := c.startMiner()
	c.startMiner()
	const max = 3_000_000
	p := c.startClient("survivor", max)
	victim.WaitLine(t, "mining", 60*time.Second) // it has finished a chunk and holds another
	victim.Kill()
	killed := time.Now()
	c.serverProc.WaitLine(t, "miner lost", 30*time.Second)
	noticed := time.Since(killed)
	t.Logf("server noticed the killed miner after %v", noticed.Round(time.Millisecond))
	// 5 epochs of 200 ms after the last heartbeat: about a second, doubled for a loaded machine
	// and still well short of the 5 s the old settings took.
	if noticed > 2*time.Second {
		t.Errorf("server noticed the killed miner after %v, want about a second", noticed)
	}
	c.checkAnswer(p, "survivor", max, 120*time.Second)
}

// A client killed mid-job has its job dropped; another client is still answered.
func TestProgramsClientKilledMidJob(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	c.startMiner()
	quitter := c.startClient("quitter", 1<<40)
	c.serverProc.WaitLine(t, `job queued.*quitter`, 30*time.Second)
	quitter.Kill()
	c.serverProc.WaitLine(t, "client lost, job abandoned", 30*time.Second)
	p := c.startClient("stayer", 30_000)
	c.checkAnswer(p, "stayer", 30_000, 60*time.Second)
}

func TestProgramsClientSeesLostServer(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	p := c.startClient("orphan", 1<<40) // no miner: the job waits forever
	c.serverProc.WaitLine(t, "job queued", 30*time.Second)
	c.serverProc.Kill()
	p.WaitLine(t, "^Disconnected$", 30*time.Second)
	if err := p.Wait(t, 10*time.Second); err == nil {
		t.Error("client exited 0 after losing the server")
	}
}

func TestProgramsStopCleanlyOnSIGINT(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	m := c.startMiner()
	for _, p := range []*testutil.Proc{m, c.serverProc} {
		if err := p.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(t, 30*time.Second); err != nil {
			t.Errorf("%s exited with %v after SIGINT", p.Cmd.Path, err)
		}
		if out := strings.Join(p.Lines(), "\n"); strings.Contains(out, "goroutine ") {
			t.Errorf("stack trace after SIGINT:\n%s", out)
		}
	}
}

func TestProgramsRejectBadArguments(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	server := testutil.BuildBinary(t, "ds440/bitcoin/cmd/server")
	miner := testutil.BuildBinary(t, "ds440/bitcoin/cmd/miner")
	client := testutil.BuildBinary(t, "ds440/bitcoin/cmd/client")
	cases := []struct {
		bin  string
		args []string
	}{
		{server, nil},
		{server, []string{"notaport"}},
		{server, []string{"70000"}},
		{server, []string{"1", "2"}},
		{server, []string{"-nosuchflag", "1"}},
		{server, []string{"-epoch", "0", "1"}},
		{server, []string{"-epoch-limit", "0", "1"}},
		{miner, []string{"-epoch", "500us", "localhost:1"}},
		{miner, nil},
		{miner, []string{"-workers", "0", "localhost:1"}},
		{client, []string{"localhost:1", "msg"}},
		{client, []string{"localhost:1", "msg", "-5"}},
		{client, []string{"localhost:1", "msg", "99999999999999999999999"}},
	}
	for _, tc := range cases {
		p := testutil.StartProc(t, tc.bin, tc.args...)
		err := p.Wait(t, 30*time.Second)
		if code := exitCode(err); code != 2 {
			t.Errorf("%s %q: exit code %d, want 2", tc.bin, tc.args, code)
		}
		if out := strings.Join(p.Lines(), "\n"); !strings.Contains(out, "usage:") {
			t.Errorf("%s %q printed no usage:\n%s", tc.bin, tc.args, out)
		}
	}
}

func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
