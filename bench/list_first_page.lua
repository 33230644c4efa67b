-- ListRequestConsent: first page (limit 100) of all the shop's consents, newest first.
local common = require("common")
common.post('{"paging":{"limit":100}}')
done = common.done
