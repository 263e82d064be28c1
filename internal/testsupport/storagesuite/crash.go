// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package storagesuite // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagesuite"

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childtest"
)

const crashWriters = 4

// Crash kills a process in the middle of concurrent batches, with SIGKILL,
// at a random moment, and reopens the store, four times over: every
// acknowledged batch must be there, and each batch must be there whole or
// not at all. The process is the test binary again, run for this test
// alone with env naming the store's directory; each writer's batches set
// its next item and its metadata and delete the item three before, as the
// persistent queue does, and it records each acknowledged batch in a file
// before it goes on.
func Crash(t *testing.T, s Storage, env string) {
	if dir := os.Getenv(env); dir != "" {
		crashChild(t, s, dir)
		return
	}
	dir := t.TempDir()
	store, acks := filepath.Join(dir, "store"), filepath.Join(dir, "acks")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for round := range 4 {
		_ = round
		cmd := exec.Command(os.Args[0], "-test.run="+childtest.RunPattern(t.Name()), "-test.v")
		cmd.Env = append(os.Environ(), env+"="+dir)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		// Kill once the writers are well under way.
		deadline, before := time.Now().Add(30*time.Second), countLines(t, acks)
		for countLines(t, acks) < before+50 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		err := cmd.Wait()
		require.Error(t, err, "the child ended before it was killed:\n%s", out.String())
		require.Contains(t, err.Error(), "killed", "the child failed:\n%s", out.String())

		acked := lastAcked(t, acks)
		c, closeStore := s.Open(t, store)
		for w := range crashWriters {
			meta, err := c.Get(context.Background(), metaKey(w))
			require.NoError(t, err)
			require.NotNil(t, meta, "writer %d: nothing of it is left, though %d batches were acknowledged", w, acked[w])
			m, err := strconv.Atoi(string(meta))
			require.NoError(t, err)
			// The batch in flight at the kill may or may not be there.
			require.GreaterOrEqual(t, m, acked[w], "writer %d: acknowledged batch %d is lost", w, acked[w])
			require.LessOrEqual(t, m, acked[w]+1, "writer %d: batch %d is there, never sent", w, m)
			for j := max(m-5, 0); j <= m+1; j++ {
				got, err := c.Get(context.Background(), itemKey(w, j))
				require.NoError(t, err)
				if j > m-3 && j <= m {
					require.Equal(t, itemValue(w, j), got, "writer %d item %d, metadata at %d: a batch is there in part", w, j, m)
				} else {
					require.Nil(t, got, "writer %d item %d, metadata at %d: a batch is there in part", w, j, m)
				}
			}
		}
		t.Logf("round %d: killed after %v acknowledged batches", round+1, acked)
		closeStore()
	}
}

func crashChild(t *testing.T, s Storage, dir string) {
	c, _ := s.Open(t, filepath.Join(dir, "store"))
	acks, err := os.OpenFile(filepath.Join(dir, "acks"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	require.NoError(t, err)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			ctx := context.Background()
			start := 0
			if meta, err := c.Get(ctx, metaKey(w)); err == nil && meta != nil {
				start, _ = strconv.Atoi(string(meta))
			}
			for j := start + 1; j < start+1_000_000; j++ {
				err := c.Batch(ctx, storage.SetOperation(itemKey(w, j), itemValue(w, j)),
					storage.SetOperation(metaKey(w), []byte(strconv.Itoa(j))), storage.DeleteOperation(itemKey(w, j-3)))
				if err != nil {
					panic(err)
				}
				mu.Lock()
				_, err = fmt.Fprintf(acks, "%d %d\n", w, j)
				mu.Unlock()
				if err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
	t.Fatal("the writers finished before the parent killed them")
}

func metaKey(w int) string    { return fmt.Sprintf("meta/%d", w) }
func itemKey(w, j int) string { return fmt.Sprintf("item/%d/%d", w, j) }

// itemValue is writer w's item j: 1 to 24 KB, as the queue's items are.
func itemValue(w, j int) []byte {
	v := make([]byte, 1024*(1+(j*7+w)%24))
	for i := range v {
		v[i] = byte(i*31 + j*17 + w)
	}
	return v
}

func lastAcked(t *testing.T, path string) [crashWriters]int {
	var acked [crashWriters]int
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		var w, j int
		if _, err := fmt.Sscanf(scanner.Text(), "%d %d", &w, &j); err != nil {
			continue // the line a kill cut short
		}
		acked[w] = max(acked[w], j)
	}
	require.NoError(t, scanner.Err())
	return acked
}

func countLines(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return strings.Count(string(b), "\n")
}
