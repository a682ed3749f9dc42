// Prints, for each line of stdin, whether Kubernetes' CEL isCIDR accepts it and its masked form:
// netip.ParsePrefix plus the IPv4-mapped refusal of k8s.io/apiserver/pkg/cel/library/cidr.go.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
)

type result struct {
	Input  string `json:"input"`
	Valid  bool   `json:"valid"`
	Masked string `json:"masked,omitempty"`
	Equal  bool   `json:"equalsMasked"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var s string
		if err := json.Unmarshal(in.Bytes(), &s); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		r := result{Input: s}
		p, err := netip.ParsePrefix(s)
		if err == nil && !p.Addr().Is4In6() {
			r.Valid = true
			r.Masked = p.Masked().String()
			r.Equal = p == p.Masked()
		}
		_ = out.Encode(r)
	}
}
