//go:build race

package corpus_test

// raceEnabled shrinks the largest synthetic history under the race
// detector, which slows building it tenfold.
const raceEnabled = true
