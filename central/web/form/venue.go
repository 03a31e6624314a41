package form

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// Venue is the business portal's venue application: the fields of a
// registry.Registration as typed. The registry's rules validate it
// (registry.Registration.Normalize); Errors maps each bad field to the
// catalogue key of the message shown beside it.
type Venue struct {
	Name           string
	BusinessNumber string
	Address        string
	Category       string
	DefaultStay    string // minutes, empty for the category's
	Lat, Lon       string // degrees
	OwnerPhone     string
}

// VenueFields are the application's fields, in the order of the form.
var VenueFields = []string{"name", "business_number", "address", "category", "default_stay", "lat", "lon", "owner_phone"}

// VenueKeys are the catalogue keys a venue form's errors may name (a test
// checks each is in the catalogues).
var VenueKeys = func() []string {
	var keys []string
	for _, f := range VenueFields {
		keys = append(keys, "venue.err."+f)
	}
	return append(keys, "venue.err.business_number.taken", "venue.err.business_number.check")
}()

// NewVenue reads the application form of a parsed POST.
func NewVenue(r *http.Request) Venue {
	return Venue{Name: value(r, "name"), BusinessNumber: value(r, "business_number"), Address: value(r, "address"),
		Category: value(r, "category"), DefaultStay: value(r, "default_stay"), Lat: value(r, "lat"), Lon: value(r, "lon"),
		OwnerPhone: value(r, "owner_phone")}
}

// Registration returns the application as a registration of a venue
// with id, and the fields that are not even numbers (field → key).
func (f Venue) Registration(id string) (registry.Registration, map[string]string) {
	errs := map[string]string{}
	reg := registry.Registration{ID: id, Name: f.Name, BusinessNumber: f.BusinessNumber, Address: f.Address,
		Category: registry.Category(strings.ToLower(f.Category)), OwnerPhone: f.OwnerPhone}
	var err error
	if reg.DefaultStay, err = optionalInt(f.DefaultStay); err != nil {
		errs["default_stay"] = "venue.err.default_stay"
	}
	if reg.Location.Lat, err = strconv.ParseFloat(f.Lat, 64); err != nil {
		errs["lat"] = "venue.err.lat"
	}
	if reg.Location.Lon, err = strconv.ParseFloat(f.Lon, 64); err != nil {
		errs["lon"] = "venue.err.lon"
	}
	return reg, errs
}

func optionalInt(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}

// Validate checks the application with the registry's rules and returns
// the registration normalised (the business number as NNN-NN-NNNNN, the
// phone in E.164), or the bad fields (field → catalogue key), each shown
// beside its field.
func (f Venue) Validate(id string) (registry.Registration, map[string]string) {
	reg, errs := f.Registration(id)
	norm, err := reg.Normalize()
	if err == nil && len(errs) == 0 {
		return norm, nil
	}
	for field, key := range RegistryErrors(err) {
		if _, ok := errs[field]; !ok {
			errs[field] = key
		}
	}
	if _, bad := errs["business_number"]; bad && f.BusinessNumber != "" && digits(f.BusinessNumber) == 10 {
		errs["business_number"] = "venue.err.business_number.check" // ten digits: the check digit is wrong
	}
	return registry.Registration{}, errs
}

// RegistryErrors maps the fields of a registry.InvalidError within err to
// catalogue keys: "location.lat" is the form's "lat".
func RegistryErrors(err error) map[string]string {
	out := map[string]string{}
	var inv registry.InvalidError
	if !errors.As(err, &inv) {
		return out
	}
	for _, fe := range inv {
		field := strings.TrimPrefix(fe.Field, "location.")
		out[field] = "venue.err." + field
	}
	return out
}

// digits counts the ASCII digits of s.
func digits(s string) int {
	n := 0
	for _, c := range s {
		if '0' <= c && c <= '9' {
			n++
		}
	}
	return n
}

// VenueEdit is the form of a venue's editable details.
type VenueEdit struct {
	Name, Address, Category, DefaultStay string
}

// NewVenueEdit reads the edit form of a parsed POST.
func NewVenueEdit(r *http.Request) VenueEdit {
	return VenueEdit{Name: value(r, "name"), Address: value(r, "address"), Category: value(r, "category"),
		DefaultStay: value(r, "default_stay")}
}

// Validate checks the details with the registry's rules, applied to v
// with them, and returns them (DefaultStay: the category's when the field
// is empty) or the bad fields.
func (f VenueEdit) Validate(v store.Venue) (store.VenueDetails, map[string]string) {
	reg := registry.Registration{ID: v.ID, Name: f.Name, BusinessNumber: v.BusinessNumber, Address: f.Address,
		Category: registry.Category(strings.ToLower(f.Category)), Location: v.Location, OwnerPhone: v.OwnerPhone}
	errs := map[string]string{}
	var err error
	if reg.DefaultStay, err = optionalInt(f.DefaultStay); err != nil {
		errs["default_stay"] = "venue.err.default_stay"
	}
	_, err = reg.Normalize()
	for field, key := range RegistryErrors(err) {
		switch field { // a venue stored before the registry may lack the others
		case "name", "address", "category", "default_stay":
			if _, ok := errs[field]; !ok {
				errs[field] = key
			}
		}
	}
	if len(errs) > 0 {
		return store.VenueDetails{}, errs
	}
	cat, _ := registry.ParseCategory(f.Category) // checked above
	d := store.VenueDetails{Name: f.Name, Address: f.Address, Category: cat, DefaultStay: reg.DefaultStay}
	if d.DefaultStay == 0 {
		d.DefaultStay = d.Category.DefaultStay()
	}
	return d, nil
}
