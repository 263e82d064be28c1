//go:build !race

package auth0loginreceiver

const raceEnabled = false
