package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// userState is what the processor knows of one user.
type userState struct {
	// SignedUp: the user is signed up, by this collector's SignUp or by
	// evidence (app_metadata, a lookup, a logins count above one).
	SignedUp bool `json:"s"`
	// SignupRecord is the id of the record this collector emitted as the
	// user's SignUp; a redelivery of it is not a second SignUp.
	SignupRecord string `json:"r,omitempty"`
	// Confirmed: the pipeline accepted SignupRecord. An unconfirmed claim
	// found after a restart may never have left the collector, so its
	// record, if delivered again, is emitted again.
	Confirmed bool `json:"c,omitempty"`
}

// userStore keeps user states in a bounded LRU, backed by a storage
// extension when one is configured (then the LRU is a cache of it).
// Callers serialize access to one user with lockUser.
type userStore struct {
	cache  *lru.Cache[string, userState]
	client storage.Client // nil without a storage extension

	seed  maphash.Seed
	locks [256]sync.Mutex

	// inflight holds, per user, the record id of a SignUp this process is
	// delivering right now (claimed, not yet confirmed or rolled back).
	inflight sync.Map
}

func newUserStore(size int, client storage.Client) (*userStore, error) {
	cache, err := lru.New[string, userState](size)
	if err != nil {
		return nil, err
	}
	return &userStore{cache: cache, client: client, seed: maphash.MakeSeed()}, nil
}

// lockUser serializes decisions about one user across concurrent batches.
func (s *userStore) lockUser(user string) func() {
	m := &s.locks[maphash.String(s.seed, user)%uint64(len(s.locks))]
	m.Lock()
	return m.Unlock
}

func userKey(user string) string { return "user/" + user }

// get returns the user's state; known is false for a user never seen. A
// storage read error is returned with the user treated as unknown.
func (s *userStore) get(ctx context.Context, user string) (userState, bool, error) {
	if st, ok := s.cache.Get(user); ok {
		return st, true, nil
	}
	if s.client == nil {
		return userState{}, false, nil
	}
	raw, err := s.client.Get(ctx, userKey(user))
	if err != nil || raw == nil {
		return userState{}, false, err
	}
	var st userState
	if err := json.Unmarshal(raw, &st); err != nil {
		return userState{}, false, err
	}
	s.cache.Add(user, st)
	return st, true, nil
}

// put changes the user's state in memory; the returned operation persists
// it (nil without storage).
func (s *userStore) put(user string, st userState) *storage.Operation {
	s.cache.Add(user, st)
	if s.client == nil {
		return nil
	}
	raw, _ := json.Marshal(st)
	return storage.SetOperation(userKey(user), raw)
}

// forget removes the user; the returned operation persists that.
func (s *userStore) forget(user string) *storage.Operation {
	s.cache.Remove(user)
	if s.client == nil {
		return nil
	}
	return storage.DeleteOperation(userKey(user))
}

// persist applies operations in one storage transaction.
func (s *userStore) persist(ctx context.Context, ops []*storage.Operation) error {
	if s.client == nil || len(ops) == 0 {
		return nil
	}
	return s.client.Batch(ctx, ops...)
}
