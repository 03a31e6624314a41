// Package registry is the venue registry's rules: what a venue's
// registration must hold to be accepted. It has no storage (see central/store) and no
// network; central applies it to the requests of the HTTP API, and the
// operator tool to its flags before it sends them.
//
// # Business registration numbers
//
// [ParseBusinessNumber] accepts a 사업자등록번호 written NNN-NN-NNNNN or as
// ten bare digits, checks its check digit and returns it as NNN-NN-NNNNN.
// Whether the business is open or closed is a tax-office look-up outside
// this system.
//
// # Categories and default stays
//
// A venue has one [Category]. Each category has a default stay, the length
// of a visit whose visitor never scanned out, for tracing: see
// [Category.DefaultStay]. A province overrides them with a [Stays] map;
// a registration may set its own stay. Stays are bounded to
// [MinStay]..[MaxStay] minutes.
//
// # Locations
//
// A venue's location must be within South Korea ([CheckLocation]): first
// within its bounding box ([Korea]), which catches latitude and longitude
// swapped, a sign lost or degrees typed as minutes and names the bad
// coordinate; then on its land ([KoreaLand]: Natural Earth's 1:10m
// coastline with every inhabited island, and a buffer of [LandTolerance]
// metres for piers and beaches), which refuses the sea and the
// neighbours inside the box (North Korea, Tsushima, Kyushu). It is
// checked against South Korea, not Jeju ([Jeju]): the system is built to
// serve a nation as well as a province, and a location elsewhere in Korea
// is a policy question for the province. Tests and the demo put their
// venues in Jeju.
//
// # Phone numbers
//
// [ParsePhone] accepts a Korean mobile, landline, internet-phone (070) or
// business representative (15xx, 16xx, 18xx) number, with or without
// hyphens, spaces or the +82 country code, and returns it in E.164.
//
// # Status
//
// A venue is applied, approved, suspended or rejected; see [CheckTransition] for the
// moves allowed. Kiosk enrollment tokens and posters are issued to approved
// venues only. A suspended venue's kiosks keep working: their check-ins are
// still ingested (never silently dropped), since a visitor who checked in
// was there whatever the venue's paperwork says.
//
// # Errors
//
// [Registration.Validate] reports every bad field at once, each as a
// [*FieldError] named by its JSON field ("business_number", "location.lat").
//
// # Posters
//
// The signed static poster code of a venue without a kiosk is a format
// both sides share: it is in package venuecode, beside the kiosk's
// rotating display code. Posters are issued to approved venues only.
package registry
