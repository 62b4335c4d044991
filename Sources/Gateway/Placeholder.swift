@main struct PlaceholderGateway { static func main() {} }
