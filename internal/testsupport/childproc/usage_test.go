package childproc

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProcessReadings(t *testing.T) {
	start := time.Now()
	for time.Since(start) < 50*time.Millisecond {
		_ = rand.Int() // burn some CPU
	}
	cpu, err := CPUTime(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, cpu)
	rss, peak, err := Memory(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, rss)
	assert.GreaterOrEqual(t, peak, rss)
}
