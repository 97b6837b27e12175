"""The Docker Engine API over its unix socket, for the benchmarks (no client library: http.client on AF_UNIX)."""
import http.client, json, socket

class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.unix_path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)

def request(socket_path, method, path, body=None):
    """(status, decoded JSON or None) of one Engine API call (API version 1.41)."""
    connection = UnixConnection(socket_path)
    connection.request(method, "/v1.41" + path, body=json.dumps(body) if body is not None else None,
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, (json.loads(data) if data else None)
