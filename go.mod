module github.com/probonus-go/probonus

go 1.24.0

require (
	github.com/jarcoal/httpmock v1.4.1
	github.com/nyaruka/phonenumbers v1.8.1
	github.com/shopspring/decimal v1.4.0
	github.com/stretchr/testify v1.11.1
	go.uber.org/goleak v1.3.0
	golang.org/x/time v0.14.0
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/text v0.23.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
