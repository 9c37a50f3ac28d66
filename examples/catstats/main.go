// Command catstats is the example model of dx's demo: per-category count,
// sum and mean of a decimal column of a CSV table.
//
//	catstats train TABLE.csv CATEGORY VALUE SCALE > model.json
//	catstats update model.json DELTA.jsonl > model2.json   # from dx delta --format jsonl
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/dxdata/dx/examples/catstats/stats"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "catstats:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 5 && args[0] == "train":
		scale, err := strconv.Atoi(args[4])
		if err != nil {
			return fmt.Errorf("scale %q: %w", args[4], err)
		}
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		m, err := stats.Train(f, args[2], args[3], scale)
		if err != nil {
			return err
		}
		return m.Write(os.Stdout)
	case len(args) == 3 && args[0] == "update":
		mf, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer mf.Close()
		m, err := stats.Load(mf)
		if err != nil {
			return err
		}
		df, err := os.Open(args[2])
		if err != nil {
			return err
		}
		defer df.Close()
		if err := m.ApplyDelta(df); err != nil {
			return err
		}
		return m.Write(os.Stdout)
	}
	return fmt.Errorf("usage: catstats train TABLE.csv CATEGORY VALUE SCALE | catstats update MODEL.json DELTA.jsonl")
}
