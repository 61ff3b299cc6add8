"""Reference data loaded by migration and editable in the admin.

Sector risk levels are the platform's defaults (1 lowest .. 5 highest), reflecting typical insolvency
frequencies by NACE section (construction and hospitality highest, public sector lowest). Country
levels follow the 0..7 scale of the OECD country risk classification; the values here are indicative
defaults as of 2026 and meant to be maintained by the operator. Countries not listed get 4.
"""

SECTORS = [
    ("A", "Agriculture, forestry and fishing", 3),
    ("B", "Mining and quarrying", 4),
    ("C", "Manufacturing", 3),
    ("D", "Electricity, gas, steam and air conditioning supply", 2),
    ("E", "Water supply, sewerage and waste management", 2),
    ("F", "Construction", 5),
    ("G", "Wholesale and retail trade", 3),
    ("H", "Transportation and storage", 4),
    ("I", "Accommodation and food service activities", 5),
    ("J", "Information and communication", 2),
    ("K", "Financial and insurance activities", 2),
    ("L", "Real estate activities", 4),
    ("M", "Professional, scientific and technical activities", 2),
    ("N", "Administrative and support service activities", 3),
    ("O", "Public administration and defence", 1),
    ("P", "Education", 1),
    ("Q", "Human health and social work activities", 1),
    ("R", "Arts, entertainment and recreation", 4),
    ("S", "Other service activities", 3),
    ("T", "Activities of households as employers", 3),
    ("U", "Activities of extraterritorial organisations", 1),
]

COUNTRY_RISK = {
    # High-income OECD members and similar: 0
    "AT": 0, "AU": 0, "BE": 0, "CA": 0, "CH": 0, "CZ": 0, "DE": 0, "DK": 0, "EE": 0, "ES": 0, "FI": 0,
    "FR": 0, "GB": 0, "IE": 0, "IL": 0, "IT": 0, "JP": 0, "KR": 0, "LT": 0, "LU": 0, "LV": 0, "NL": 0,
    "NO": 0, "NZ": 0, "PL": 0, "PT": 0, "SE": 0, "SI": 0, "SK": 0, "US": 0, "SG": 0, "HK": 0, "TW": 1,
    "GR": 0, "HU": 0, "HR": 0,
    "CN": 2, "SA": 2, "AE": 2, "QA": 2, "KW": 2, "MY": 2, "CL": 2,
    "IN": 3, "ID": 3, "MX": 3, "PH": 3, "TH": 3, "PE": 3, "RO": 3, "BG": 3, "MA": 3, "UY": 3, "PA": 3,
    "BR": 5, "ZA": 4, "CO": 4, "VN": 4, "KZ": 4, "RS": 4, "GT": 4, "DO": 4, "CR": 4,
    "TR": 5, "EG": 5, "KE": 6, "NG": 6, "PK": 7, "BD": 5, "GH": 6, "TN": 6, "EC": 6,
    "AR": 7, "RU": 7, "UA": 7, "BY": 7, "VE": 7, "LB": 7, "IR": 7, "SY": 7, "AF": 7, "LK": 7, "ZW": 7,
}
DEFAULT_COUNTRY_RISK = 4
