package sslpolicy

// The ciphers of AWS's tables, OpenSSL name and IANA code point.
var (
	tlsAES128GCM   = Cipher{"TLS_AES_128_GCM_SHA256", 0x1301}
	tlsAES256GCM   = Cipher{"TLS_AES_256_GCM_SHA384", 0x1302}
	tlsChaCha20    = Cipher{"TLS_CHACHA20_POLY1305_SHA256", 0x1303}
	ecdsaAES128GCM = Cipher{"ECDHE-ECDSA-AES128-GCM-SHA256", 0xc02b}
	rsaAES128GCM   = Cipher{"ECDHE-RSA-AES128-GCM-SHA256", 0xc02f}
	ecdsaAES128256 = Cipher{"ECDHE-ECDSA-AES128-SHA256", 0xc023}
	rsaAES128256   = Cipher{"ECDHE-RSA-AES128-SHA256", 0xc027}
	ecdsaAES128SHA = Cipher{"ECDHE-ECDSA-AES128-SHA", 0xc009}
	rsaAES128SHA   = Cipher{"ECDHE-RSA-AES128-SHA", 0xc013}
	ecdsaAES256GCM = Cipher{"ECDHE-ECDSA-AES256-GCM-SHA384", 0xc02c}
	rsaAES256GCM   = Cipher{"ECDHE-RSA-AES256-GCM-SHA384", 0xc030}
	ecdsaAES256384 = Cipher{"ECDHE-ECDSA-AES256-SHA384", 0xc024}
	rsaAES256384   = Cipher{"ECDHE-RSA-AES256-SHA384", 0xc028}
	ecdsaAES256SHA = Cipher{"ECDHE-ECDSA-AES256-SHA", 0xc00a}
	rsaAES256SHA   = Cipher{"ECDHE-RSA-AES256-SHA", 0xc014}
	aes128GCM      = Cipher{"AES128-GCM-SHA256", 0x009c}
	aes128SHA256   = Cipher{"AES128-SHA256", 0x003c}
	aes128SHA      = Cipher{"AES128-SHA", 0x002f}
	aes256GCM      = Cipher{"AES256-GCM-SHA384", 0x009d}
	aes256SHA256   = Cipher{"AES256-SHA256", 0x003d}
	aes256SHA      = Cipher{"AES256-SHA", 0x0035}
)

// Cipher lists shared by several policies, in AWS's order.
var (
	tls13Ciphers     = []Cipher{tlsAES128GCM, tlsAES256GCM, tlsChaCha20}
	tls13FIPSCiphers = []Cipher{tlsAES128GCM, tlsAES256GCM}
	// ecdheGCM are the ECDHE AES-GCM suites (the "Res" policies).
	ecdheGCM = []Cipher{ecdsaAES128GCM, rsaAES128GCM, ecdsaAES256GCM, rsaAES256GCM}
	// ecdheSHA2 adds the ECDHE CBC suites with SHA-2.
	ecdheSHA2 = []Cipher{ecdsaAES128GCM, rsaAES128GCM, ecdsaAES128256, rsaAES128256,
		ecdsaAES256GCM, rsaAES256GCM, ecdsaAES256384, rsaAES256384}
	// ecdheAll adds the ECDHE CBC suites with SHA-1.
	ecdheAll = []Cipher{ecdsaAES128GCM, rsaAES128GCM, ecdsaAES128256, rsaAES128256, ecdsaAES128SHA, rsaAES128SHA,
		ecdsaAES256GCM, rsaAES256GCM, ecdsaAES256384, rsaAES256384, ecdsaAES256SHA, rsaAES256SHA}
	// ecdheAllRSAFirst is ecdheAll with the two AES256-SHA suites the other
	// way round, as AWS's FIPS and FS tables list them.
	ecdheAllRSAFirst = []Cipher{ecdsaAES128GCM, rsaAES128GCM, ecdsaAES128256, rsaAES128256, ecdsaAES128SHA, rsaAES128SHA,
		ecdsaAES256GCM, rsaAES256GCM, ecdsaAES256384, rsaAES256384, rsaAES256SHA, ecdsaAES256SHA}
	rsaSHA2 = []Cipher{aes128GCM, aes128SHA256, aes256GCM, aes256SHA256}
	rsaAll  = []Cipher{aes128GCM, aes128SHA256, aes128SHA, aes256GCM, aes256SHA256, aes256SHA}
)

func cat(lists ...[]Cipher) []Cipher {
	var out []Cipher
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var (
	v13   = []string{TLS13}
	v1312 = []string{TLS13, TLS12}
	v1311 = []string{TLS13, TLS12, TLS11}
	v1310 = []string{TLS13, TLS12, TLS11, TLS10}
	v12   = []string{TLS12}
	v1211 = []string{TLS12, TLS11}
	v1210 = []string{TLS12, TLS11, TLS10}
)

// policies are AWS's TLS, FIPS and FS tables, in their order.
var policies = []Policy{
	{Name: "ELBSecurityPolicy-TLS13-1-3-2021-06", Protocols: v13, Ciphers: tls13Ciphers},
	{Name: "ELBSecurityPolicy-TLS13-1-2-2021-06", Protocols: v1312, Ciphers: cat(tls13Ciphers, ecdheSHA2)},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", Protocols: v1312, Ciphers: cat(tls13Ciphers, ecdheGCM)},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", Protocols: v1312, Ciphers: cat(tls13Ciphers, ecdheAll, rsaAll)},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", Protocols: v1312, Ciphers: cat(tls13Ciphers, ecdheSHA2, rsaSHA2)},
	{Name: "ELBSecurityPolicy-TLS13-1-1-2021-06", Protocols: v1311, Ciphers: cat(tls13Ciphers, ecdheAll, rsaAll)},
	{Name: "ELBSecurityPolicy-TLS13-1-0-2021-06", Protocols: v1310, Ciphers: cat(tls13Ciphers, ecdheAll, rsaAll)},
	{Name: "ELBSecurityPolicy-TLS-1-2-Ext-2018-06", Protocols: v12, Ciphers: cat(ecdheAll, rsaAll)},
	{Name: "ELBSecurityPolicy-TLS-1-2-2017-01", Protocols: v12, Ciphers: cat(ecdheSHA2, rsaSHA2)},
	{Name: "ELBSecurityPolicy-TLS-1-1-2017-01", Protocols: v1211, Ciphers: cat(ecdheAll, rsaAll)},
	{Name: "ELBSecurityPolicy-2016-08", Protocols: v1210, Ciphers: cat(ecdheAll, rsaAll)},

	{Name: "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", Protocols: v13, Ciphers: tls13FIPSCiphers, FIPS: true},
	{Name: "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", Protocols: v1312, Ciphers: cat(tls13FIPSCiphers, ecdheSHA2), FIPS: true},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04", Protocols: v1312, Ciphers: cat(tls13FIPSCiphers, ecdheGCM), FIPS: true},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04", Protocols: v1312, Ciphers: cat(tls13FIPSCiphers, ecdheAllRSAFirst, rsaAll), FIPS: true},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04", Protocols: v1312, Ciphers: cat(tls13FIPSCiphers, ecdheSHA2, rsaSHA2), FIPS: true},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04", Protocols: v1312, Ciphers: cat(tls13FIPSCiphers, ecdheAllRSAFirst), FIPS: true},
	{Name: "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", Protocols: v1311, Ciphers: cat(tls13FIPSCiphers, ecdheAllRSAFirst, rsaAll), FIPS: true},
	{Name: "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04", Protocols: v1310, Ciphers: cat(tls13FIPSCiphers, ecdheAllRSAFirst, rsaAll), FIPS: true},

	{Name: "ELBSecurityPolicy-FS-1-2-Res-2020-10", Protocols: v12, Ciphers: ecdheGCM},
	{Name: "ELBSecurityPolicy-FS-1-2-Res-2019-08", Protocols: v12, Ciphers: ecdheSHA2},
	{Name: "ELBSecurityPolicy-FS-1-2-2019-08", Protocols: v12, Ciphers: ecdheAllRSAFirst},
	{Name: "ELBSecurityPolicy-FS-1-1-2019-08", Protocols: v1211, Ciphers: ecdheAllRSAFirst},
	{Name: "ELBSecurityPolicy-FS-2018-06", Protocols: v1210, Ciphers: ecdheAllRSAFirst},
}
