# The subnet list lacks its closing bracket.

cluster "payments" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-pay-a", "subnet-pay-b"
  max_pods = 2000 # expect: error syntax::parse
}
