//go:generate mdatagen metadata.yaml

// Package pebblestorage is a storage extension for the exporters'
// persistent sending queue on Pebble (github.com/cockroachdb/pebble), an
// LSM key-value store whose write-ahead log groups the fsyncs of concurrent
// writes and whose memtable drops a value deleted before it is flushed.
// See README.md.
package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"
