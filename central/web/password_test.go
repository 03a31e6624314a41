package web

import (
	"strings"
	"testing"
)

// Ensure that a hash is a PHC argon2id string with a fresh salt, that it
// checks the right password only, and that malformed or hostile hashes
// are errors, not matches.
func TestPassword(t *testing.T) {
	h1, err := HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword(testPassword)
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") || h1 == h2 || strings.Contains(h1, testPassword) {
		t.Fatalf("hash %q (again %q): want PHC argon2id, a fresh salt each time, no password", h1, h2)
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{testPassword, true}, {testPassword + " ", false}, {"", false}, {strings.ToUpper(testPassword), false}} {
		if ok, err := CheckPassword(h1, tt.pw); ok != tt.want || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
	parts := strings.Split(h1, "$")
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=19456,t=2,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=4194304,t=2,p=1$" + parts[4] + "$" + parts[5], // 4 GiB
		"$argon2id$v=19$m=19456,t=2,p=1,x=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=19456,t=2,p=1$!!$" + parts[5],
		"$argon2id$v=19$m=19456,t=2,p=1$" + parts[4] + "$AAAA",
	} {
		if ok, err := CheckPassword(bad, testPassword); ok || err == nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
}

// BenchmarkCheckPassword measures one sign-in's password check (argon2id,
// 19 MiB, two passes): the cost per guess an attacker with the hashes
// pays, and the server per sign-in.
func BenchmarkCheckPassword(b *testing.B) {
	h, err := HashPassword(testPassword)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := CheckPassword(h, testPassword); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
