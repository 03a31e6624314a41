package main

import (
	"fmt"
	"os"

	"github.com/anshim/anshim/hardware/camera/internal/corpus"
)

func main() {
	frames, err := corpus.Generate(corpus.Options{Seed: 1, PerClass: 20})
	if err != nil {
		panic(err)
	}
	if _, err := corpus.WriteDir(os.Args[1], frames); err != nil {
		panic(err)
	}
	fmt.Println(len(frames))
}
