window.YTD.direct_messages.part0 = [
  {
    "dmConversation": {
      "conversationId": "29847561-1462553211098765312",
      "messages": [
        {
          "messageCreate": {
            "recipientId": "1462553211098765312",
            "reactions": [],
            "urls": [],
            "text": "Older, in part1",
            "mediaUrls": [],
            "senderId": "29847561",
            "id": "1800000000000000100",
            "createdAt": "2024-05-01T12:00:01.000Z",
            "editHistory": []
          }
        }
      ]
    }
  },
  {
    "dmConversation": {
      "conversationId": "1462553211098765312-3344556677",
      "messages": [
        {
          "messageCreate": {
            "recipientId": "1462553211098765312",
            "reactions": [],
            "urls": [
              {
                "url": "https://t.co/g1",
                "expanded": "https://twitter.com/messages/media/1800000000000000400"
              }
            ],
            "text": "https://t.co/g1",
            "mediaUrls": [
              "https://video.twimg.com/dm_gif/1800000000000000400/x.mp4"
            ],
            "senderId": "3344556677",
            "id": "1800000000000000400",
            "createdAt": "2024-05-02T08:00:00.000Z",
            "editHistory": []
          }
        }
      ]
    }
  }
]