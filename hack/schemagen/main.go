// Command schemagen writes the JSON Schemas of the addonsync config files (schema/*.json)
// from the Go types in pkg/config. Run it from the repository root:
//
//	go run ./hack/schemagen
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/addonsync/addonsync/internal/schemagen"
)

func main() { os.Exit(run()) }

func run() int {
	src := flag.String("src", "pkg/config", "directory of the config types' Go source")
	out := flag.String("out", "schema", "directory to write the schemas to")
	flag.Parse()
	files, err := schemagen.Generate(*src)
	if err != nil {
		fmt.Fprintf(os.Stderr, "schemagen: %v\n", err)
		return 1
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "schemagen: %v\n", err)
		return 1
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(*out, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "schemagen: %v\n", err)
			return 1
		}
		fmt.Println("wrote", p)
	}
	return 0
}
