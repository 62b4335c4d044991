import Shared
import Testing

/// The RESP bytes commands are sent as, checked byte for byte.
struct RedisCommandTests {
    @Test func encodesNameAndArgumentsAsBulkStrings() {
        let command = RedisCommand("SET", "key", .bytes([0, 13, 10]))
        #expect(String(decoding: command.encoded, as: UTF8.self) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\n\0\r\n\r\n")
    }

    @Test(arguments: [0, 1, 9, 10, 99, 100, 1234, 16_384])
    func lengthsOfEveryDigitCount(length: Int) {
        let argument = [UInt8](repeating: UInt8(ascii: "x"), count: length)
        let command = RedisCommand("ECHO", .bytes(argument))
        #expect(command.encoded == Array("*2\r\n$4\r\nECHO\r\n$\(length)\r\n".utf8) + argument + [13, 10])
    }

    @Test func trailingArgumentsFollowTheOthersAndCount() {
        var trailing = RedisBulkArguments()
        trailing.append(Array("a".utf8))
        var more = RedisBulkArguments()
        more.append([])
        more.append(Array("line two".utf8))
        trailing.append(contentsOf: more)
        #expect(trailing.count == 3)

        let command = RedisCommand("RPUSH", ["list"], trailing: trailing)
        #expect(
            String(decoding: command.encoded, as: UTF8.self)
                == "*5\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n$1\r\na\r\n$0\r\n\r\n$8\r\nline two\r\n"
        )
        #expect(RedisCommand("RPUSH", ["list"], trailing: RedisBulkArguments()) == RedisCommand("RPUSH", "list"))
    }
}
