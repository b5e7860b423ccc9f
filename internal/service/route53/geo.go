package route53

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
)

// The locations geolocation routing knows, in ListGeoLocations' order:
// the continents, then the default location "*", then the countries by
// code, each followed by its subdivisions (the US states). The countries
// are ISO 3166-1's (zz_geo.go); AWS's list is the same codes, with a few
// names spelled differently.

var geoContinents = [][2]string{
	{"AF", "Africa"}, {"AN", "Antarctica"}, {"AS", "Asia"}, {"EU", "Europe"},
	{"OC", "Oceania"}, {"NA", "North America"}, {"SA", "South America"},
}

// geoList builds the ordered list once.
var geoList = sync.OnceValue(func() []route53api.GeoLocationDetails {
	var out []route53api.GeoLocationDetails
	for _, c := range geoContinents {
		out = append(out, route53api.GeoLocationDetails{ContinentCode: new(c[0]), ContinentName: new(c[1])})
	}
	out = append(out, route53api.GeoLocationDetails{CountryCode: new("*"), CountryName: new("Default")})
	for _, c := range geoCountries {
		out = append(out, route53api.GeoLocationDetails{CountryCode: new(c[0]), CountryName: new(c[1])})
		if c[0] == "US" {
			for _, st := range geoUSStates {
				out = append(out, route53api.GeoLocationDetails{CountryCode: new("US"), CountryName: new(c[1]), SubdivisionCode: new(st[0]), SubdivisionName: new(st[1])})
			}
		}
	}
	return out
})

func geoKey(continent, country, subdivision string) string {
	return continent + "/" + country + "/" + subdivision
}

func detailsKey(d route53api.GeoLocationDetails) string {
	return geoKey(deref(d.ContinentCode), deref(d.CountryCode), deref(d.SubdivisionCode))
}

// GetGeoLocation describes one location.
func (s *Service) GetGeoLocation(_ context.Context, in *route53api.GetGeoLocationRequest) (*route53api.GetGeoLocationResponse, error) {
	cont, country, sub := deref(in.ContinentCode), deref(in.CountryCode), deref(in.SubdivisionCode)
	switch {
	case cont != "" && (country != "" || sub != ""):
		return nil, errInvalidInput("Invalid request: You can specify either continent code or country code, but not both.")
	case sub != "" && country == "":
		return nil, errInvalidInput("Invalid request: A subdivision code requires a country code.")
	case cont == "" && country == "":
		return nil, errInvalidInput("Invalid request: You must specify a continent code or a country code.")
	}
	key := geoKey(cont, country, sub)
	for _, d := range geoList() {
		if detailsKey(d) == key {
			return &route53api.GetGeoLocationResponse{GeoLocationDetails: &d}, nil
		}
	}
	return nil, api.Errorf(http.StatusNotFound, "NoSuchGeoLocation", "No geolocation found with continent code %q, country code %q, subdivision code %q", cont, country, sub)
}

// ListGeoLocations pages through the locations; the Start codes name the
// first one returned.
func (s *Service) ListGeoLocations(_ context.Context, in *route53api.ListGeoLocationsRequest) (*route53api.ListGeoLocationsResponse, error) {
	n, err := maxItems(in.MaxItems, 100, 100)
	if err != nil {
		return nil, err
	}
	list := geoList()
	start := 0
	if in.StartContinentCode != nil || in.StartCountryCode != nil || in.StartSubdivisionCode != nil {
		key := geoKey(deref(in.StartContinentCode), deref(in.StartCountryCode), deref(in.StartSubdivisionCode))
		start = -1
		for i, d := range list {
			if detailsKey(d) == key {
				start = i
				break
			}
		}
		if start < 0 {
			return nil, errInvalidInput("Invalid request: The start location %s does not exist.", key)
		}
	}
	out := &route53api.ListGeoLocationsResponse{GeoLocationDetailsList: []route53api.GeoLocationDetails{}, IsTruncated: new(false), MaxItems: new(fmt.Sprint(n))}
	for i := start; i < len(list); i++ {
		if len(out.GeoLocationDetailsList) == n {
			d := list[i]
			out.IsTruncated = new(true)
			out.NextContinentCode, out.NextCountryCode, out.NextSubdivisionCode = d.ContinentCode, d.CountryCode, d.SubdivisionCode
			break
		}
		out.GeoLocationDetailsList = append(out.GeoLocationDetailsList, list[i])
	}
	return out, nil
}
