package main

import (
	"flag"
	"log/slog"
	"os"

	"ds440/kvserver"
)

// The -aof and -fsync flags make the store durable with kvserver's append-only log, named after
// Redis's appendonly and appendfsync settings.
func init() { storeFlags = aofFlags }

// aofFlags registers -aof and -fsync on fs and returns the function that opens the chosen store.
func aofFlags(fs *flag.FlagSet) func(*slog.Logger) (kvserver.KVStore, error) {
	aof := fs.String("aof", "", "append-only log `file` that makes the store durable; empty keeps it in memory only")
	fsync := "everysec"
	fs.Func("fsync", "when the -aof log is fsynced, `policy` always (before a write is answered) or everysec (once a second; the default)", func(s string) error {
		if _, err := kvserver.ParseSyncPolicy(s); err != nil {
			return err
		}
		fsync = s
		return nil
	})
	return func(log *slog.Logger) (kvserver.KVStore, error) {
		store, _, err := openStoreWithLog(*aof, fsync, log)
		return store, err
	}
}

// openStore returns the store the -aof and -fsync flags describe, and the function that closes
// it: the in-memory store when aof is empty, otherwise a FileStore on that file with the given
// fsync policy ("always" or "everysec").
func openStore(aof, fsync string) (kvserver.KVStore, func() error, error) {
	return openStoreWithLog(aof, fsync, slog.Default())
}

func openStoreWithLog(aof, fsync string, log *slog.Logger) (kvserver.KVStore, func() error, error) {
	if aof == "" {
		return kvserver.NewMemoryStore(), func() error { return nil }, nil
	}
	policy, err := kvserver.ParseSyncPolicy(fsync)
	if err != nil {
		return nil, nil, err
	}
	store, err := kvserver.OpenFileStore(aof, policy, kvserver.FileStoreOptions{
		Logger: log,
		// A write that cannot be logged has not been answered yet; exiting now, as Redis does
		// with appendfsync always, is the only way to never acknowledge it. The log on disk
		// holds everything answered so far and a restart replays it.
		OnError: func(err error) {
			log.Error("kvserver: cannot write the append-only log; exiting so that no unlogged write is acknowledged", "err", err)
			os.Exit(1)
		},
	})
	if err != nil {
		return nil, nil, err
	}
	return store, store.Close, nil
}
