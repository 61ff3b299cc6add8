"""Word lists for synthetic company names (deterministic given the generator's seed)."""

STEMS = [
    "Alder", "Birch", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper", "Kestrel",
    "Linden", "Meridian", "Nordic", "Orion", "Pioneer", "Quartz", "Riverside", "Summit", "Tundra", "Union",
    "Vertex", "Willow", "Zenith", "Atlas", "Beacon", "Crest", "Dune", "Evergreen", "Fjord", "Grove", "Helix",
    "Ivory", "Jade", "Keystone", "Lumen", "Mosaic", "Nova", "Oak", "Polar", "Quest", "Ridge", "Sterling",
    "Titan", "Vista", "Westbrook", "Apex", "Bright", "Canyon", "Dorado",
]
ACTIVITY = {
    "A": ["Farms", "Agro", "Harvest"], "C": ["Manufacturing", "Industries", "Components", "Plastics", "Steelworks"],
    "F": ["Construction", "Builders", "Bau", "Contracting"], "G": ["Trading", "Wholesale", "Retail", "Distribution"],
    "H": ["Logistics", "Transport", "Freight", "Shipping"], "I": ["Hospitality", "Hotels", "Catering"],
    "J": ["Software", "Digital", "Networks", "Media"], "M": ["Consulting", "Engineering", "Design"],
    "N": ["Services", "Staffing", "Facility"], "Q": ["Health", "Care", "Clinics"],
}
LEGAL_FORM = {
    "DE": "GmbH", "AT": "GmbH", "CH": "AG", "FR": "SAS", "IT": "S.p.A.", "ES": "S.L.", "NL": "B.V.", "BE": "NV",
    "PL": "Sp. z o.o.", "CZ": "s.r.o.", "SE": "AB", "GB": "Ltd", "US": "Inc.", "JP": "K.K.", "BR": "Ltda.",
    "MX": "S.A. de C.V.", "TR": "A.Ş.", "IN": "Pvt Ltd", "ZA": "(Pty) Ltd", "CN": "",
}
CN_PREFIX = ["上海", "北京", "深圳", "广州", "杭州", "苏州", "南京", "天津", "成都", "宁波"]
CN_STEM = ["华远", "恒通", "瑞丰", "东方", "金桥", "宏达", "新世纪", "长城", "永盛", "中联", "海信", "博远"]
CN_ACTIVITY = {
    "A": "农业", "C": "制造", "F": "建设工程", "G": "贸易", "H": "物流", "I": "酒店管理", "J": "信息技术",
    "M": "工程咨询", "N": "企业服务", "Q": "医疗",
}
GROUP_NAMES = [
    "Holding", "Group", "Partners", "International", "Capital", "Ventures",
]
