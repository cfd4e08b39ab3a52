package phi

import (
	"testing"
)

// namePlaceSeeds are inputs near the edges of the name, place and age
// grammars.
var namePlaceSeeds = []string{
	"Sumiko254 Larue605\n is a 92 year-old",
	"Dr. Jane Roe, M.D., at St. Mary's Hospital, Dallas, TX",
	"pt john d, wife Mary, seen at Cedars-Sinai",
	"St. Jude\u2019s, Brigham and Women's Hospital & Clinic of",
	"aged 95. age: 1 95yo 129 y/o 89-year-old",
	"Elizabeth White, Stevens-Johnson syndrome, Wells score",
	"lives in Atlanta, GA, from San Francisco, CA",
	"An125 X1 Y2 Z",
	"E11.9 S72.001A 1234F CPT 99213 lisinopril",
}

// FuzzNamePlaceAge runs the name, clinician, location and age detectors
// alone and through Resolve, and checks that every finding lies within
// the text, names its detector and that resolved findings do not overlap.
func FuzzNamePlaceAge(f *testing.F) {
	for _, s := range namePlaceSeeds {
		f.Add(s)
	}
	detectors := []Detector{NameDetector{}, ClinicianNameDetector{}, LocationDetector{}, AgeDetector{}}
	f.Fuzz(func(t *testing.T, text string) {
		var all []Finding
		for _, d := range detectors {
			out := d.Detect(text, nil)
			for _, fd := range out {
				if fd.Start < 0 || fd.End <= fd.Start || fd.End > len(text) || fd.Detector != d.Name() {
					t.Fatalf("%s: invalid finding %+v for text length %d", d.Name(), fd, len(text))
				}
				if fd.Confidence <= 0 || fd.Confidence > 1 {
					t.Fatalf("%s: confidence %v out of (0, 1]", d.Name(), fd.Confidence)
				}
			}
			all = append(all, out...)
		}
		last := 0
		for _, fd := range Resolve(all) {
			if fd.Start < last {
				t.Fatalf("resolved finding %+v overlaps the previous one ending at %d", fd, last)
			}
			last = fd.End
		}
	})
}

// FuzzDetectHealthContext checks that counting never panics and that
// counts are bounded by the number of words.
func FuzzDetectHealthContext(f *testing.F) {
	for _, s := range namePlaceSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		h := DetectHealthContext(text)
		if h.ICD10 < 0 || h.CPT < 0 || h.Medications < 0 || h.Diagnoses < 0 {
			t.Fatalf("negative count %+v", h)
		}
		if h.Total() > len(text)/2+1 {
			t.Fatalf("counts %+v exceed the words in %d bytes", h, len(text))
		}
	})
}
