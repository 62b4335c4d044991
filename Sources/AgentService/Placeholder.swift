@main struct PlaceholderAgentService { static func main() {} }
