package ec2

// Region and Availability Zone data for DescribeRegions and
// DescribeAvailabilityZones.
//
// Where the data came from (gathered 2026):
//
//   - Region list and descriptions: botocore 1.43.11 data/partitions.json,
//     partition "aws" (34 regions; the region regex there now also admits "mx").
//     The aws-sdk-go v1.55.8 models/endpoints/endpoints.json file is frozen
//     and lacks ap-east-2, ap-southeast-5/6/7 and mx-central-1. The
//     descriptions are the endpoints.json "description" strings, word for word.
//   - Opt-in status: AWS Account Management guide, "Enable or disable AWS
//     Regions in your account". Regions launched before 20 March 2019 are
//     enabled by default (DescribeRegions reports "opt-in-not-required").
//     Later regions are disabled until enabled ("not-opted-in" for a
//     default account).
//   - AZ IDs per region: AWS Regions and Availability Zones guide,
//     "AWS Availability Zones" (aws-availability-zones.html), the table of
//     AZ ID / Region / Geography. Note "† Newer accounts can access two
//     Availability Zones in US West (N. California)". The page also lists
//     apne1-az3, which new accounts do not see, so it is left out here.
//     Also left out: usw1-az2, and a Maryland us-east-1 zone that the page
//     lists as "Coming in 2026" with no ID yet.
//   - Letter→ID mapping: regions created after November 2012 use one mapping
//     for every account. For those, the mapping here is what
//     DescribeAvailabilityZones output shows in public examples. The AWS doc
//     example shows us-east-2a=use2-az1. The other examples are moto 5.2.1
//     ec2/models/availability_zones_and_regions.py and several published
//     describe-availability-zones outputs and Terraform AZ maps. The
//     independently mapped regions are us-east-1, us-west-1, us-west-2,
//     ap-northeast-1, ap-southeast-1, ap-southeast-2, eu-west-1 and sa-east-1.
//     There the mapping differs per account created before November 2025, so
//     the table uses one observed account's mapping. Where no mapping has been
//     observed, letters are sequential (a=az1, b=az2, ...).
//   - eu-west-2d (euw2-az4) is London's 4th AZ. It was announced in August
//     2026 and is in the AWS AZ table.

// regionInfo describes one commercial AWS region as DescribeRegions and DescribeAvailabilityZones report it.
type regionInfo struct {
	Name         string // e.g. "us-east-1"
	Description  string // endpoints.json description, e.g. "US East (N. Virginia)"
	OptIn        string // "opt-in-not-required" | "opted-in" | "not-opted-in" as DescribeRegions OptInStatus reports for a default account
	ZoneIDPrefix string // e.g. "use1"
	Zones        []zoneInfo
}

// zoneInfo is one Availability Zone: its letter suffix and its AZ ID.
type zoneInfo struct {
	Letter string // "a" → zone name "<region>a"
	ID     string // e.g. "use1-az6"
}

const (
	optInNotRequired = "opt-in-not-required"
	notOptedIn       = "not-opted-in"
)

var commercialRegions = []regionInfo{
	// ---- Default (pre-2019-03-20) regions: opt-in-not-required ----
	{
		Name: "us-east-1", Description: "US East (N. Virginia)", OptIn: optInNotRequired, ZoneIDPrefix: "use1",
		// Independently mapped; this is the mapping moto uses (an observed account).
		Zones: []zoneInfo{{"a", "use1-az6"}, {"b", "use1-az1"}, {"c", "use1-az2"}, {"d", "use1-az4"}, {"e", "use1-az3"}, {"f", "use1-az5"}},
	},
	{
		Name: "us-east-2", Description: "US East (Ohio)", OptIn: optInNotRequired, ZoneIDPrefix: "use2",
		Zones: []zoneInfo{{"a", "use2-az1"}, {"b", "use2-az2"}, {"c", "use2-az3"}},
	},
	{
		Name: "us-west-1", Description: "US West (N. California)", OptIn: optInNotRequired, ZoneIDPrefix: "usw1",
		// New accounts get 2 AZs (usw1-az1, usw1-az3); mapping from an observed account.
		Zones: []zoneInfo{{"b", "usw1-az3"}, {"c", "usw1-az1"}},
	},
	{
		Name: "us-west-2", Description: "US West (Oregon)", OptIn: optInNotRequired, ZoneIDPrefix: "usw2",
		Zones: []zoneInfo{{"a", "usw2-az2"}, {"b", "usw2-az1"}, {"c", "usw2-az3"}, {"d", "usw2-az4"}},
	},
	{
		Name: "ap-south-1", Description: "Asia Pacific (Mumbai)", OptIn: optInNotRequired, ZoneIDPrefix: "aps1",
		Zones: []zoneInfo{{"a", "aps1-az1"}, {"b", "aps1-az3"}, {"c", "aps1-az2"}},
	},
	{
		Name: "ap-northeast-1", Description: "Asia Pacific (Tokyo)", OptIn: optInNotRequired, ZoneIDPrefix: "apne1",
		// apne1-az3 (historically "b") is not offered to new accounts.
		Zones: []zoneInfo{{"a", "apne1-az4"}, {"c", "apne1-az1"}, {"d", "apne1-az2"}},
	},
	{
		Name: "ap-northeast-2", Description: "Asia Pacific (Seoul)", OptIn: optInNotRequired, ZoneIDPrefix: "apne2",
		Zones: []zoneInfo{{"a", "apne2-az1"}, {"b", "apne2-az2"}, {"c", "apne2-az3"}, {"d", "apne2-az4"}},
	},
	{
		Name: "ap-northeast-3", Description: "Asia Pacific (Osaka)", OptIn: optInNotRequired, ZoneIDPrefix: "apne3",
		Zones: []zoneInfo{{"a", "apne3-az3"}, {"b", "apne3-az1"}, {"c", "apne3-az2"}},
	},
	{
		Name: "ap-southeast-1", Description: "Asia Pacific (Singapore)", OptIn: optInNotRequired, ZoneIDPrefix: "apse1",
		Zones: []zoneInfo{{"a", "apse1-az2"}, {"b", "apse1-az1"}, {"c", "apse1-az3"}},
	},
	{
		Name: "ap-southeast-2", Description: "Asia Pacific (Sydney)", OptIn: optInNotRequired, ZoneIDPrefix: "apse2",
		Zones: []zoneInfo{{"a", "apse2-az1"}, {"b", "apse2-az3"}, {"c", "apse2-az2"}},
	},
	{
		Name: "ca-central-1", Description: "Canada (Central)", OptIn: optInNotRequired, ZoneIDPrefix: "cac1",
		// There is no cac1-az3 / ca-central-1c.
		Zones: []zoneInfo{{"a", "cac1-az1"}, {"b", "cac1-az2"}, {"d", "cac1-az4"}},
	},
	{
		Name: "eu-central-1", Description: "Europe (Frankfurt)", OptIn: optInNotRequired, ZoneIDPrefix: "euc1",
		Zones: []zoneInfo{{"a", "euc1-az2"}, {"b", "euc1-az3"}, {"c", "euc1-az1"}},
	},
	{
		Name: "eu-west-1", Description: "Europe (Ireland)", OptIn: optInNotRequired, ZoneIDPrefix: "euw1",
		Zones: []zoneInfo{{"a", "euw1-az3"}, {"b", "euw1-az1"}, {"c", "euw1-az2"}},
	},
	{
		Name: "eu-west-2", Description: "Europe (London)", OptIn: optInNotRequired, ZoneIDPrefix: "euw2",
		Zones: []zoneInfo{{"a", "euw2-az2"}, {"b", "euw2-az3"}, {"c", "euw2-az1"}, {"d", "euw2-az4"}},
	},
	{
		Name: "eu-west-3", Description: "Europe (Paris)", OptIn: optInNotRequired, ZoneIDPrefix: "euw3",
		Zones: []zoneInfo{{"a", "euw3-az1"}, {"b", "euw3-az2"}, {"c", "euw3-az3"}},
	},
	{
		Name: "eu-north-1", Description: "Europe (Stockholm)", OptIn: optInNotRequired, ZoneIDPrefix: "eun1",
		Zones: []zoneInfo{{"a", "eun1-az1"}, {"b", "eun1-az2"}, {"c", "eun1-az3"}},
	},
	{
		Name: "sa-east-1", Description: "South America (Sao Paulo)", OptIn: optInNotRequired, ZoneIDPrefix: "sae1",
		Zones: []zoneInfo{{"a", "sae1-az1"}, {"b", "sae1-az2"}, {"c", "sae1-az3"}},
	},

	// ---- Opt-in (post-2019-03-20) regions: not-opted-in for a default account ----
	{
		Name: "af-south-1", Description: "Africa (Cape Town)", OptIn: notOptedIn, ZoneIDPrefix: "afs1",
		Zones: []zoneInfo{{"a", "afs1-az1"}, {"b", "afs1-az2"}, {"c", "afs1-az3"}},
	},
	{
		Name: "ap-east-1", Description: "Asia Pacific (Hong Kong)", OptIn: notOptedIn, ZoneIDPrefix: "ape1",
		Zones: []zoneInfo{{"a", "ape1-az1"}, {"b", "ape1-az2"}, {"c", "ape1-az3"}},
	},
	{
		Name: "ap-east-2", Description: "Asia Pacific (Taipei)", OptIn: notOptedIn, ZoneIDPrefix: "ape2",
		Zones: []zoneInfo{{"a", "ape2-az1"}, {"b", "ape2-az2"}, {"c", "ape2-az3"}}, // letters assumed sequential
	},
	{
		Name: "ap-south-2", Description: "Asia Pacific (Hyderabad)", OptIn: notOptedIn, ZoneIDPrefix: "aps2",
		Zones: []zoneInfo{{"a", "aps2-az1"}, {"b", "aps2-az2"}, {"c", "aps2-az3"}},
	},
	{
		Name: "ap-southeast-3", Description: "Asia Pacific (Jakarta)", OptIn: notOptedIn, ZoneIDPrefix: "apse3",
		Zones: []zoneInfo{{"a", "apse3-az1"}, {"b", "apse3-az2"}, {"c", "apse3-az3"}},
	},
	{
		Name: "ap-southeast-4", Description: "Asia Pacific (Melbourne)", OptIn: notOptedIn, ZoneIDPrefix: "apse4",
		Zones: []zoneInfo{{"a", "apse4-az1"}, {"b", "apse4-az2"}, {"c", "apse4-az3"}},
	},
	{
		Name: "ap-southeast-5", Description: "Asia Pacific (Malaysia)", OptIn: notOptedIn, ZoneIDPrefix: "apse5",
		Zones: []zoneInfo{{"a", "apse5-az1"}, {"b", "apse5-az2"}, {"c", "apse5-az3"}},
	},
	{
		Name: "ap-southeast-6", Description: "Asia Pacific (New Zealand)", OptIn: notOptedIn, ZoneIDPrefix: "apse6",
		Zones: []zoneInfo{{"a", "apse6-az1"}, {"b", "apse6-az2"}, {"c", "apse6-az3"}},
	},
	{
		Name: "ap-southeast-7", Description: "Asia Pacific (Thailand)", OptIn: notOptedIn, ZoneIDPrefix: "apse7",
		Zones: []zoneInfo{{"a", "apse7-az1"}, {"b", "apse7-az2"}, {"c", "apse7-az3"}},
	},
	{
		Name: "ca-west-1", Description: "Canada West (Calgary)", OptIn: notOptedIn, ZoneIDPrefix: "caw1",
		Zones: []zoneInfo{{"a", "caw1-az1"}, {"b", "caw1-az2"}, {"c", "caw1-az3"}},
	},
	{
		Name: "eu-central-2", Description: "Europe (Zurich)", OptIn: notOptedIn, ZoneIDPrefix: "euc2",
		Zones: []zoneInfo{{"a", "euc2-az1"}, {"b", "euc2-az2"}, {"c", "euc2-az3"}},
	},
	{
		Name: "eu-south-1", Description: "Europe (Milan)", OptIn: notOptedIn, ZoneIDPrefix: "eus1",
		Zones: []zoneInfo{{"a", "eus1-az1"}, {"b", "eus1-az2"}, {"c", "eus1-az3"}},
	},
	{
		Name: "eu-south-2", Description: "Europe (Spain)", OptIn: notOptedIn, ZoneIDPrefix: "eus2",
		Zones: []zoneInfo{{"a", "eus2-az1"}, {"b", "eus2-az2"}, {"c", "eus2-az3"}},
	},
	{
		Name: "il-central-1", Description: "Israel (Tel Aviv)", OptIn: notOptedIn, ZoneIDPrefix: "ilc1",
		Zones: []zoneInfo{{"a", "ilc1-az1"}, {"b", "ilc1-az2"}, {"c", "ilc1-az3"}},
	},
	{
		Name: "me-central-1", Description: "Middle East (UAE)", OptIn: notOptedIn, ZoneIDPrefix: "mec1",
		Zones: []zoneInfo{{"a", "mec1-az1"}, {"b", "mec1-az2"}, {"c", "mec1-az3"}},
	},
	{
		Name: "me-south-1", Description: "Middle East (Bahrain)", OptIn: notOptedIn, ZoneIDPrefix: "mes1",
		Zones: []zoneInfo{{"a", "mes1-az1"}, {"b", "mes1-az2"}, {"c", "mes1-az3"}},
	},
	{
		Name: "mx-central-1", Description: "Mexico (Central)", OptIn: notOptedIn, ZoneIDPrefix: "mxc1",
		Zones: []zoneInfo{{"a", "mxc1-az1"}, {"b", "mxc1-az2"}, {"c", "mxc1-az3"}},
	},
}
