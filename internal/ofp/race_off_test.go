//go:build !race

package ofp_test

const raceEnabled = false
