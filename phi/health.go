package phi

// HealthContext counts the health information in a text. It is not PHI by
// itself: an identifier becomes PHI when it sits next to health
// information, so a risk score can rise with these counts. No values are
// kept.
type HealthContext struct {
	// ICD10 counts ICD-10-CM code shapes ("E11.9", "S72.001A", and "I10"
	// after a code cue such as "ICD" or "dx").
	ICD10 int
	// CPT counts CPT codes: five digits after a cue such as "CPT", or the
	// category II and III shapes "1234F" and "0001T".
	CPT int
	// Medications counts drug names from a built-in list of common
	// generics and brands, and words with a USAN stem ("-pril", "-statin").
	Medications int
	// Diagnoses counts condition words ("diabetes", "hypertension").
	Diagnoses int
}

// Total returns the sum of all counts.
func (h HealthContext) Total() int { return h.ICD10 + h.CPT + h.Medications + h.Diagnoses }

// codeCues are the words that make a bare code a diagnosis or procedure
// code, lowercase.
var codeCues = newCueList("icd", "icd-10", "icd10", "dx", "diagnosis", "code", "codes", "cpt", "hcpcs", "billing")

// DetectHealthContext counts the health information in text. It reads
// ASCII words only, does not allocate and runs in time linear in the
// length of text.
func DetectHealthContext(text string) HealthContext {
	var h HealthContext
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !isAlnum(c) || i > 0 && isAlnum(text[i-1]) {
			continue
		}
		if isDigit(c) {
			end, kind := cptAt(text, i)
			if kind {
				h.CPT++
			}
			i = end - 1
			continue
		}
		if end := icd10At(text, i); end > 0 {
			h.ICD10++
			i = end - 1
			continue
		}
		w := wordEnd(text, i)
		if w-i >= 4 && w-i <= 24 {
			word := text[i:w]
			switch {
			case inWordSet(diagnosisWords, word):
				h.Diagnoses++
			case inWordSet(medicationWords, word) || hasDrugStem(word):
				h.Medications++
			}
		}
		i = w - 1
	}
	return h
}

// icd10At returns the end of an ICD-10-CM code shape at i, or -1: a letter
// other than U, two digits (or a digit and A or B, as in "C4A"), then a
// period and one to four letters or digits. Without the period the three
// characters count only after a code cue, because "B12" is usually a
// vitamin.
func icd10At(text string, i int) int {
	if i+3 > len(text) || !isUpper(text[i]) || text[i] == 'U' || !isDigit(text[i+1]) {
		return -1
	}
	third := text[i+2]
	if !isDigit(third) && third != 'A' && third != 'B' {
		return -1
	}
	end := i + 3
	if end+1 < len(text) && text[end] == '.' && isAlnum(text[end+1]) {
		j := end + 1
		for j < len(text) && j-end-1 < 4 && isAlnum(text[j]) && !isLower(text[j]) {
			j++
		}
		if j < len(text) && isAlnum(text[j]) {
			return -1
		}
		return j
	}
	if end < len(text) && isAlnum(text[end]) {
		return -1
	}
	if cueBefore(nil, text, i, cueWindow, codeCues) < 0 {
		return -1
	}
	return end
}

// cptAt returns the end of the digit run at i and whether it is a CPT
// code: five digits after a code cue, or four digits and F or T.
func cptAt(text string, i int) (int, bool) {
	n := digitsAt(text, i)
	end := i + n
	if n == 4 && end < len(text) && (text[end] == 'F' || text[end] == 'T') && (end+1 == len(text) || !isAlnum(text[end+1])) {
		return end + 1, true
	}
	if n != 5 || !digitEnd(text, end) || !digitStart(text, i) {
		return end, false
	}
	return end, cueBefore(nil, text, i, cueWindow, codeCues) >= 0
}

// drugStems are USAN stem endings that mark drug names, lowercase.
var drugStems = []string{
	"pril", "sartan", "olol", "alol", "statin", "mab", "tinib", "ciclib",
	"cillin", "mycin", "micin", "floxacin", "conazole", "prazole",
	"tidine", "dipine", "gliflozin", "gliptin", "glutide", "parin",
	"xaban", "gatran", "vir", "cycline", "afil", "triptan", "setron",
	"azepam", "azolam", "barbital", "caine", "oxetine", "triptyline",
	"pramine", "peridol", "apine", "idone", "profen", "coxib", "dronate",
	"semide", "thiazide", "terol", "sonide", "tropium", "lukast",
	"cort", "olone", "asone", "formin", "glinide", "zolid",
}

// hasDrugStem reports whether word ends in a USAN stem and is long enough
// for the stem to be a suffix.
func hasDrugStem(word string) bool {
	for _, s := range drugStems {
		if len(word) >= len(s)+3 && hasPrefixFold(word, len(word)-len(s), s) {
			return true
		}
	}
	return false
}

// medicationWords are common drugs, lowercase, that no stem covers.
var medicationWords = newWordSet(
	"acetaminophen", "paracetamol", "aspirin", "ibuprofen", "naproxen",
	"insulin", "metformin", "warfarin", "heparin", "digoxin", "amiodarone",
	"furosemide", "spironolactone", "levothyroxine", "prednisone",
	"methotrexate", "gabapentin", "pregabalin", "lithium", "clopidogrel",
	"ticagrelor", "morphine", "oxycodone", "hydrocodone", "fentanyl",
	"tramadol", "codeine", "methadone", "buprenorphine", "naloxone",
	"amoxicillin", "azithromycin", "ceftriaxone", "cefpodoxime",
	"cephalexin", "vancomycin", "doxycycline", "nitrofurantoin",
	"trimethoprim", "sulfamethoxazole", "metronidazole", "clindamycin",
	"albuterol", "tiotropium", "montelukast", "allopurinol", "colchicine",
	"hydroxychloroquine", "tamoxifen", "letrozole", "anastrozole",
	"cisplatin", "carboplatin", "paclitaxel", "doxorubicin",
	"cyclophosphamide", "rituximab", "pembrolizumab", "nivolumab",
	"lamotrigine", "levetiracetam", "valproate", "carbamazepine",
	"phenytoin", "topiramate", "sertraline", "citalopram", "escitalopram",
	"bupropion", "venlafaxine", "duloxetine", "mirtazapine", "trazodone",
	"quetiapine", "olanzapine", "risperidone", "aripiprazole",
	"lorazepam", "alprazolam", "clonazepam", "diazepam", "zolpidem",
	"donepezil", "memantine", "levodopa", "carbidopa", "tamsulosin",
	"finasteride", "sildenafil", "estradiol", "progesterone",
	"testosterone", "semaglutide", "liraglutide", "dulaglutide",
	"tirzepatide", "empagliflozin", "dapagliflozin", "sitagliptin",
	"glipizide", "glyburide", "glimepiride", "pioglitazone", "apixaban",
	"rivaroxaban", "dabigatran", "enoxaparin", "nitroglycerin",
	"hydralazine", "clonidine", "diltiazem", "verapamil", "amlodipine",
	"cholecalciferol", "phenazopyridine", "ondansetron", "omeprazole",
	"pantoprazole", "famotidine", "esomeprazole", "adalimumab",
	"etanercept", "infliximab", "eliquis", "xarelto", "ozempic",
	"lipitor", "humira", "keytruda", "lasix", "coumadin", "synthroid",
	"tylenol", "advil", "motrin", "zoloft", "prozac", "xanax", "jardiance",
	"entresto", "sacubitril", "valsartan", "dupixent",
)

// diagnosisWords are common conditions, lowercase.
var diagnosisWords = newWordSet(
	"diabetes", "diabetic", "hypertension", "hypertensive", "hyperlipidemia",
	"dyslipidemia", "asthma", "copd", "emphysema", "bronchitis",
	"pneumonia", "sepsis", "cancer", "carcinoma", "lymphoma", "leukemia",
	"melanoma", "myeloma", "sarcoma", "glioblastoma", "tumor", "tumour",
	"metastatic", "metastasis", "stroke", "infarction", "angina",
	"arrhythmia", "fibrillation", "cardiomyopathy", "endocarditis",
	"thrombosis", "embolism", "aneurysm", "anemia", "hemophilia",
	"epilepsy", "seizure", "seizures", "migraine", "migraines", "dementia",
	"alzheimer", "parkinson", "sclerosis", "depression", "depressive",
	"anxiety", "bipolar", "schizophrenia", "psychosis", "autism", "adhd",
	"ptsd", "obesity", "hypothyroidism", "hyperthyroidism", "cirrhosis",
	"hepatitis", "pancreatitis", "cholecystitis", "appendicitis",
	"colitis", "crohn", "gerd", "ulcer", "nephropathy", "neuropathy",
	"retinopathy", "ckd", "dialysis", "osteoporosis", "osteoarthritis",
	"arthritis", "lupus", "psoriasis", "eczema", "dermatitis",
	"cellulitis", "hiv", "aids", "tuberculosis", "influenza", "covid",
	"pregnancy", "pregnant", "preeclampsia", "infertility", "hiv-positive",
	"fracture", "concussion", "laceration", "overdose", "addiction",
	"alcoholism", "opioid", "suicidal", "gout", "glaucoma", "cataract",
	"chf", "afib", "dvt", "uti", "hypoglycemia", "hyperglycemia",
	"sinusitis", "pharyngitis", "otitis", "meningitis", "encephalitis",
	"stenosis", "insufficiency", "failure", "syndrome", "disorder",
	"disease", "infection", "malignancy", "neoplasm", "diagnosed",
)
