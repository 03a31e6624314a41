package vault_test

import (
	"fmt"

	"github.com/anshim/anshim/central/vault"
)

// Every way of writing a Korean mobile number gives the same E.164 form,
// which the blind index hashes; anything else is refused, naming the field.
func ExampleNormalizePhone() {
	for _, s := range []string{"010-1234-5678", "+82 10 1234 5678", "0082-010-1234-5678", "011-234-5678", "064-710-2114"} {
		e164, err := vault.NormalizePhone(s)
		fmt.Println(e164, err)
	}
	// Output:
	// +821012345678 <nil>
	// +821012345678 <nil>
	// +821012345678 <nil>
	// +82112345678 <nil>
	//  phone: not a mobile number (want 010, or 011, 016, 017, 018 or 019)
}
