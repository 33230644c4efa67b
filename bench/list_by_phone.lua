-- ListRequestConsent: first page (limit 100) of one phone's consents, newest first.
local common = require("common")
common.post('{"filter":{"phone":"0912345678"},"paging":{"limit":100}}')
done = common.done
