package registry_test

import (
	"fmt"

	"github.com/anshim/anshim/central/registry"
)

func ExampleParseBusinessNumber() {
	for _, s := range []string{"1248100998", "124-81-00999"} {
		n, err := registry.ParseBusinessNumber(s)
		fmt.Printf("%q %v\n", n, err)
	}
	// Output:
	// "124-81-00998" <nil>
	// "" check digit does not match
}

func ExampleRegistration_Validate() {
	r := registry.Registration{
		ID:             "jeju-cafe-0042",
		Name:           "Cafe Halla",
		BusinessNumber: "123-45-67890",
		Address:        "제주시 중앙로 1",
		Category:       registry.Cafe,
		Location:       registry.Location{Lat: 126.5312, Lon: 33.4996},
		OwnerPhone:     "010-1234-5678",
	}
	fmt.Println(r.Validate())
	// Output:
	// business_number: check digit does not match; location.lat: 126.5312 is outside South Korea (33 to 38.7 N); location.lon: 33.4996 is outside South Korea (124.5 to 131.9 E)
}
