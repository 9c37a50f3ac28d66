package main

// The words generated rows and log lines are made of.

var (
	firstNames = []string{"Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi",
		"Ivan", "Judy", "Karl", "Laura", "Mallory", "Niaj", "Olivia", "Peggy",
		"Quentin", "Rupert", "Sybil", "Trent", "Ursula", "Victor", "Walter", "Xavier",
		"Yolanda", "Zoe", "Amir", "Beatriz", "Chen", "Dmitri", "Eun", "Fatima"}
	lastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
		"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas",
		"Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
		"Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young"}
	cities = []string{"Springfield", "Riverside", "Fairview", "Madison", "Georgetown", "Salem",
		"Franklin", "Clinton", "Greenville", "Bristol", "Oakland", "Lisbon", "Kyoto", "Porto",
		"Tallinn", "Lyon", "Bergen", "Graz", "Leeds", "Quito", "Perth", "Austin", "Denver",
		"Boise", "Tucson", "Dayton", "Akron", "Omaha", "Fresno", "Reno", "Mesa", "Tulsa"}
	domains = []string{"example.com", "mail.test", "corp.example", "data.invalid"}
	words   = []string{"alpha", "beta", "gamma", "delta", "order", "refund", "shipped", "pending",
		"priority", "customer", "request", "invoice", "account", "updated", "review", "late",
		"express", "bulk", "gift", "return", "damaged", "urgent", "standard", "promo",
		"coupon", "annual", "monthly", "trial", "renewal", "cancel", "retry", "ok",
		"warehouse", "north", "south", "east", "west", "central", "backorder", "split",
		"partial", "full", "manual", "auto", "batch", "import", "export", "sync",
		"error", "timeout", "cache", "hit", "miss", "queue", "worker", "node",
		"disk", "net", "cpu", "mem", "read", "write", "open", "close"}
	lowerFirst, lowerLast []string
	logLevels             = []string{"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"}
	services              = []string{"api", "auth", "billing", "search", "ingest", "export", "web", "cron"}
)

func init() {
	lower := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			b := []byte(s)
			for j, c := range b {
				if c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			out[i] = string(b)
		}
		return out
	}
	lowerFirst, lowerLast = lower(firstNames), lower(lastNames)
}
