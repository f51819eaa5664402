# A number variable whose default is not a number.

variable "brokers" {
  type    = number
  default = "five" # expect: error schema::wrong-type
}

locals {
  kafka_port = 9093
}
