package web

import (
	"net/http"
	"slices"
)

// Route is one route of the web: a method and a net/http pattern, the
// roles that may use it and its handler.
type Route struct {
	Method  string
	Pattern string
	// Roles may use the route; nil means anyone, signed in or not. A
	// signed-out GET of a route with roles goes to the sign-in page (303),
	// any other method is 401; a signed-in account of another role gets
	// 403.
	Roles []string
	// Limited routes are rate limited per client address (sign-in,
	// sign-up).
	Limited bool
	// Static routes are files: no session is read, the answer may be
	// cached.
	Static bool

	handler func(wb *Web, w http.ResponseWriter, r *http.Request)
}

// signedIn is every role: any account that is signed in.
var signedIn = AllRoles

// clerks print visitors' cards: community centres' clerks, and admins.
var clerks = []string{RoleClerk, RoleAdmin}

// routes is every route of the web, in one table; a test walks it as each
// role (central/web_routes_test.go), so that a route cannot be added
// without saying who may use it. Each handler is in a file of its name.
var routes = []Route{
	{Method: "GET", Pattern: "/{$}", handler: (*Web).landing},
	{Method: "GET", Pattern: "/static/", Static: true, handler: (*Web).static},
	{Method: "GET", Pattern: "/signin", handler: (*Web).signInShow},
	{Method: "POST", Pattern: "/signin", Limited: true, handler: (*Web).signInSubmit},
	{Method: "POST", Pattern: "/signout", Roles: signedIn, handler: (*Web).signOut},
	{Method: "GET", Pattern: "/signup", handler: (*Web).signUpShow},
	{Method: "POST", Pattern: "/signup", Limited: true, handler: (*Web).signUpSubmit},

	// The business portal: business_*.go.
	{Method: "GET", Pattern: "/business", Roles: []string{RoleBusiness}, handler: (*Web).businessHome},
	{Method: "GET", Pattern: "/business/apply", Roles: []string{RoleBusiness}, handler: (*Web).businessApplyShow},
	{Method: "POST", Pattern: "/business/apply", Roles: []string{RoleBusiness}, handler: (*Web).businessApplySubmit},
	{Method: "GET", Pattern: "/business/venues/{id}", Roles: []string{RoleBusiness}, handler: (*Web).businessVenueShow},
	{Method: "GET", Pattern: "/business/venues/{id}/edit", Roles: []string{RoleBusiness}, handler: (*Web).businessEditShow},
	{Method: "POST", Pattern: "/business/venues/{id}/edit", Roles: []string{RoleBusiness}, handler: (*Web).businessEditSubmit},
	{Method: "GET", Pattern: "/business/venues/{id}/poster.pdf", Roles: []string{RoleBusiness}, handler: (*Web).businessPosterPDF},
	{Method: "GET", Pattern: "/business/venues/{id}/poster.png", Roles: []string{RoleBusiness}, handler: (*Web).businessPosterPNG},
	{Method: "POST", Pattern: "/business/venues/{id}/tokens", Roles: []string{RoleBusiness}, handler: (*Web).businessTokenCreate},
	{Method: "POST", Pattern: "/business/venues/{id}/tokens/{token}/revoke", Roles: []string{RoleBusiness}, handler: (*Web).businessTokenRevoke},
	// The administration: admin_*.go.
	{Method: "GET", Pattern: "/admin", Roles: []string{RoleAdmin}, handler: (*Web).adminShow},
	{Method: "GET", Pattern: "/admin/venues", Roles: []string{RoleAdmin}, handler: (*Web).adminVenues},
	{Method: "GET", Pattern: "/admin/venues/{id}", Roles: []string{RoleAdmin}, handler: (*Web).adminVenue},
	{Method: "POST", Pattern: "/admin/venues/{id}/status", Roles: []string{RoleAdmin}, handler: (*Web).adminVenueStatus},
	{Method: "GET", Pattern: "/admin/fleet", Roles: []string{RoleAdmin}, handler: (*Web).adminFleet},
	{Method: "POST", Pattern: "/admin/fleet/{id}/decommission", Roles: []string{RoleAdmin}, handler: (*Web).adminFleetDecommission},
	{Method: "GET", Pattern: "/admin/accounts", Roles: []string{RoleAdmin}, handler: (*Web).adminAccounts},
	{Method: "POST", Pattern: "/admin/accounts/{name}/disable", Roles: []string{RoleAdmin}, handler: (*Web).adminAccountDisable},
	{Method: "GET", Pattern: "/admin/audit", Roles: []string{RoleAdmin}, handler: (*Web).adminAudit},
	{Method: "GET", Pattern: "/admin/backup", Roles: []string{RoleAdmin}, handler: (*Web).adminBackup},
	{Method: "GET", Pattern: "/admin/people", Roles: []string{RoleAdmin}, handler: (*Web).adminPeople},
	{Method: "POST", Pattern: "/admin/people", Roles: []string{RoleAdmin}, handler: (*Web).adminPeopleSearch},
	{Method: "GET", Pattern: "/admin/people/{id}", Roles: []string{RoleAdmin}, handler: (*Web).adminPerson},
	{Method: "POST", Pattern: "/admin/people/{id}/reveal", Roles: []string{RoleAdmin}, handler: (*Web).adminPersonReveal},
	{Method: "POST", Pattern: "/admin/people/{id}/cards/{serial}/revoke", Roles: []string{RoleAdmin}, handler: (*Web).adminPersonRevoke},
	// The clerks' cards for visitors without a smartphone: clerk_*.go.
	{Method: "GET", Pattern: "/clerk", Roles: clerks, handler: (*Web).clerkHome},
	{Method: "POST", Pattern: "/clerk/visitors", Roles: clerks, handler: (*Web).clerkRegister},
	{Method: "POST", Pattern: "/clerk/find", Roles: clerks, handler: (*Web).clerkFind},
	{Method: "GET", Pattern: "/clerk/visitors/{id}", Roles: clerks, handler: (*Web).clerkVisitor},
	{Method: "POST", Pattern: "/clerk/visitors/{id}/cards", Roles: clerks, handler: (*Web).clerkPrint},
	{Method: "GET", Pattern: "/clerk/visitors/{id}/cards/{serial}/card.pdf", Roles: clerks, handler: (*Web).clerkCardPDF},
	// The investigators' console: console_*.go.
	{Method: "GET", Pattern: "/console", Roles: []string{RoleInvestigator}, handler: (*Web).consoleHome},
	{Method: "POST", Pattern: "/console/cases", Roles: []string{RoleInvestigator}, handler: (*Web).consoleOpen},
	{Method: "GET", Pattern: "/console/cases/{id}", Roles: []string{RoleInvestigator}, handler: (*Web).consoleCase},
	{Method: "POST", Pattern: "/console/cases/{id}/reveal", Roles: []string{RoleInvestigator}, handler: (*Web).consoleReveal},
	{Method: "POST", Pattern: "/console/cases/{id}/close", Roles: []string{RoleInvestigator}, handler: (*Web).consoleClose},
	{Method: "GET", Pattern: "/console/cases/{id}/contacts.csv", Roles: []string{RoleInvestigator}, handler: (*Web).consoleCSV},
	{Method: "GET", Pattern: "/console/cases/{id}/report", Roles: []string{RoleInvestigator}, handler: (*Web).consoleReport},
	{Method: "POST", Pattern: "/console/cases/{id}/followups", Roles: []string{RoleInvestigator}, handler: (*Web).consoleFollowUpAdd},
	{Method: "POST", Pattern: "/console/cases/{id}/followups/{pseudonym}/status", Roles: []string{RoleInvestigator}, handler: (*Web).consoleFollowUpMove},
	{Method: "POST", Pattern: "/console/cases/{id}/notify", Roles: []string{RoleInvestigator}, handler: (*Web).consoleNotify},
	// The visitor app: app.go (its API is the central's /v1/app/...).
	{Method: "GET", Pattern: "/app", handler: (*Web).appShell},
	{Method: "GET", Pattern: "/app/manifest.webmanifest", Static: true, handler: (*Web).appManifest},
	{Method: "GET", Pattern: "/app/sw.js", Static: true, handler: (*Web).appServiceWorker},
}

// Routes returns the web's route table.
func Routes() []Route { return slices.Clone(routes) }

// Register adds every route of the web to mux, each behind the
// middleware (middleware.go).
func (wb *Web) Register(mux *http.ServeMux) {
	for _, rt := range routes {
		mux.Handle(rt.Method+" "+rt.Pattern, wb.chain(rt))
	}
}

// Handler returns a mux of the web's routes alone, for tests and for a
// central that serves the web apart from the API.
func (wb *Web) Handler() http.Handler {
	mux := http.NewServeMux()
	wb.Register(mux)
	return mux
}

// home is where an account goes after signing in.
func home(role string) string {
	switch role {
	case RoleAdmin:
		return "/admin"
	case RoleInvestigator:
		return "/console"
	case RoleBusiness:
		return "/business"
	case RoleClerk:
		return "/clerk"
	}
	return "/app"
}
