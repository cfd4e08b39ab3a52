package phi

import "testing"

func TestScanCodedIDs(t *testing.T) {
	runScanCases(t, []scanCase{
		{"card spaced", "paid with 4111 1111 1111 1111 today", []span{{TypeAccount, "4111 1111 1111 1111"}}},
		{"card dashed", "card 5555-5555-5555-4444.", []span{{TypeAccount, "5555-5555-5555-4444"}}},
		{"card contiguous", "ref 378282246310005", []span{{TypeAccount, "378282246310005"}}},
		{"card amex groups", "on 3782 822463 10005", []span{{TypeAccount, "3782 822463 10005"}}},
		{"card fails luhn grouped", "on 4111 1111 1111 1112", []span{{TypeAccount, "4111 1111 1111 1112"}}},
		{"long number fails luhn", "lot 1234567890123456", nil},
		{"npi unlabelled", "referred by 1234567893 today", []span{{TypeNPI, "1234567893"}}},
		{"npi wrong check unlabelled", "count 1234567890 cells", nil},
		{"dea unlabelled", "prescriber FR7654329", []span{{TypeLicense, "FR7654329"}}},
		{"dea wrong check unlabelled", "code FR7654321", nil},
		{"mbi", "Medicare card 1EG4TE5MK73", []span{{TypeHealthID, "1EG4TE5MK73"}}},
		{"mbi dashed", "card 1EG4-TE5-MK73 on file", []span{{TypeHealthID, "1EG4-TE5-MK73"}}},
		{"mbi lowercase unlabelled", "token 1eg4te5mk73", nil},
		{"vin", "car 1M8GDM9AXKP042788 towed", []span{{TypeVehicleID, "1M8GDM9AXKP042788"}}},
		{"vin without check digit", "car WDB12345ABCD12345 towed", []span{{TypeVehicleID, "WDB12345ABCD12345"}}},
		{"gs1 udi", "implant (01)00884838027367(17)250101(21)A12B", []span{{TypeDeviceID, "(01)00884838027367(17)250101(21)A12B"}}},
		{"mac address", "from 00:1A:2B:3C:4D:5E", []span{{TypeDeviceID, "00:1A:2B:3C:4D:5E"}}},
		{"number inside path", "see /visits/1234567893/notes", nil},
		{"number inside dashed code", "lot AB-1234567893", nil},
		{"dosage", "take 1/2 tab 3/4 times daily, 5 mg/kg", nil},
	})
}

func TestScanLabelledIdentifiers(t *testing.T) {
	runScanCases(t, []scanCase{
		{"npi failing check", "NPI 1234567890", []span{{TypeNPI, "1234567890"}}},
		{"synthetic npi", "NPI: 9999908392", []span{{TypeNPI, "9999908392"}}},
		{"mbi label", "MBI 1EG4-TE5-MK73", []span{{TypeHealthID, "1EG4-TE5-MK73"}}},
		{"medicare number", "Medicare number 1EG4TE5MK73", []span{{TypeHealthID, "1EG4TE5MK73"}}},
		{"subscriber", "subscriber XY-123456", []span{{TypeHealthID, "XY-123456"}}},
		{"account grouped", "account number 1234 5678 9012", []span{{TypeAccount, "1234 5678 9012"}}},
		{"credit card", "credit card 4111 1111 1111 1112", []span{{TypeAccount, "4111 1111 1111 1112"}}},
		{"drivers license", "driver's license S99940903", []span{{TypeLicense, "S99940903"}}},
		{"dl hash", "DL# S99940903", []span{{TypeLicense, "S99940903"}}},
		{"passport", "passport number X53631011X", []span{{TypeLicense, "X53631011X"}}},
		{"birth certificate", "birth certificate 2019-123456", []span{{TypeLicense, "2019-123456"}}},
		{"vin label", "VIN: 1M8GDM9AXKP042788", []span{{TypeVehicleID, "1M8GDM9AXKP042788"}}},
		{"plate two parts", "license plate ABC 1234 seen", []span{{TypeVehicleID, "ABC 1234"}}},
		{"plate one part", "plate: 7ABC123 was", []span{{TypeVehicleID, "7ABC123"}}},
		{"plate without digit", "plate and screws", nil},
		{"serial number", "pacemaker serial number PJN123456", []span{{TypeDeviceID, "PJN123456"}}},
		{"s/n short", "S/N: AB12CD", []span{{TypeDeviceID, "AB12CD"}}},
		{"sn colon", "SN: 12-XY", []span{{TypeDeviceID, "12-XY"}}},
		{"device id uuid", "device ID 123e4567-e89b-12d3-a456-426614174000", []span{{TypeDeviceID, "123e4567-e89b-12d3-a456-426614174000"}}},
		{"mrn uuid", "MRN 129c6ac7-8d06-89de-ad63-0204a93e76c3", []span{{TypeMRN, "129c6ac7-8d06-89de-ad63-0204a93e76c3"}}},
		{"claim", "claim number CL-0099812", []span{{TypeOtherID, "CL-0099812"}}},
		{"id colon", "ID: 12345678", []span{{TypeOtherID, "12345678"}}},
		{"id colon uuid", "ID: 123e4567-e89b-12d3-a456-426614174000", []span{{TypeOtherID, "123e4567-e89b-12d3-a456-426614174000"}}},
		{"bare id abbreviation", "ID consult 2 days", nil},
		{"serial measurements", "serial troponins 2 hours apart", nil},
		{"deciliter", "glucose 110 mg/dL 12345", nil},
	})
}

func TestLabelledConfidence(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  float64
	}{
		{"npi passes check", "NPI 1234567893", confContext},
		{"npi fails check", "NPI 1234567890", confMedium},
		{"dea passes check", "DEA FR7654329", confContext},
		{"dea fails check", "DEA FR7654321", confMedium},
		{"vin fails check", "VIN 1M8GDM9A1KP042788", confMedium},
		{"mrn has no check", "MRN 12345678", confContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := IdentifierDetector{}.Detect(tc.input, nil)
			if len(got) != 1 {
				t.Fatalf("Detect(%q) = %v, want one finding", tc.input, got)
			}
			if got[0].Confidence != tc.want {
				t.Errorf("Detect(%q) confidence = %v, want %v", tc.input, got[0].Confidence, tc.want)
			}
		})
	}
}

func TestIDCueOrder(t *testing.T) {
	for a := range idCuesByPrefix {
		for b, bucket := range idCuesByPrefix[a] {
			for i, x := range bucket {
				for _, y := range bucket[i+1:] {
					if len(y.label) > len(x.label) {
						t.Errorf("bucket %d/%d: %q comes before the longer %q", a, b, x.label, y.label)
					}
				}
			}
		}
	}
	if cue, _ := matchIDCue(nil, "license plate ABC 1234", 0); cue == nil || cue.label != "license plate" {
		t.Errorf("matchIDCue picked %+v, want the label %q", cue, "license plate")
	}
	indexed := 0
	for a := range idCuesByPrefix {
		for _, bucket := range idCuesByPrefix[a] {
			indexed += len(bucket)
		}
	}
	if indexed != len(idCues) {
		t.Errorf("%d cues indexed, want %d", indexed, len(idCues))
	}
}
